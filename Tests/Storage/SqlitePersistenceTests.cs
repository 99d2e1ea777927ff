using Microsoft.Data.Sqlite;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Silo.Storage;

namespace PoolAI.Tests.Storage;

[TestClass]
[DoNotParallelize]
public sealed class SqlitePersistenceTests
{
    [TestMethod]
    public void SchemaAppliesTwiceWithoutChange()
    {
        var file = Path.Combine(Path.GetTempPath(), $"poolai-{Guid.NewGuid():N}.db");
        try
        {
            var connectionString = $"Data Source={file};Pooling=False";
            SqliteSchema.Apply(connectionString);
            SqliteSchema.Apply(connectionString);
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT group_concat(QueryKey, ',') FROM (SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey)";
            Assert.AreEqual("ClearStorageKey,ReadFromStorageKey,WriteToStorageKey", command.ExecuteScalar());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [TestMethod]
    public async Task CompletedJobSurvivesARestartOfTheWholeCluster()
    {
        var file = Path.Combine(Path.GetTempPath(), $"poolai-{Guid.NewGuid():N}.db");
        var connectionString = $"Data Source={file}";
        try
        {
            var (done, reloaded) = await TestPools.RunJobAcrossRestartAsync("sqlite", connectionString);

            Assert.AreEqual(JobStatus.Succeeded, done.Status, done.StatusMessage);
            Assert.AreEqual(JobStatus.Succeeded, reloaded.Status);
            Assert.AreEqual(done.Result, reloaded.Result);
            Assert.AreEqual(done.Spec, reloaded.Spec);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var path in new[] { file, file + "-wal", file + "-shm" })
                File.Delete(path);
        }
    }
}
