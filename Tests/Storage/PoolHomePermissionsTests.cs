using Microsoft.Data.Sqlite;
using PoolAI.Benchmarks.Failover;
using PoolAI.Silo.Hosting;
using PoolAI.Silo.Storage;

namespace PoolAI.Tests.Storage;

/// <summary>The pool home holds API key hashes, job texts and signing keys: on Unix only its owner may read it.</summary>
[TestClass]
[OSCondition(ConditionMode.Exclude, OperatingSystems.Windows)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PoolHomePermissionsTests
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode WorldReadable = File600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    [TestMethod]
    public async Task AGatewaysFreshHomeItsDatabaseAndItsSecretsAreTheOwnersAlone()
    {
        var home = Path.Combine(Path.GetTempPath(), $"poolai-home-{Guid.NewGuid():N}", "home");
        try
        {
            // No signing key configured: the gateway generates its keys into the home, as on a user's first start.
            using var gateway = PoolProcess.Start("PoolAI.Gateway.dll", PoolProcess.FreePort(), PoolProcess.FreePort(), new Dictionary<string, string> { ["POOLAI_HOME"] = home });
            await gateway.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));

            Assert.AreEqual(Folder, File.GetUnixFileMode(home), "the home folder");
            Assert.AreEqual(Folder, File.GetUnixFileMode(Path.Combine(home, "secrets")), "secrets/");
            var files = new[] { "pool.db", "pool.db-wal", "pool.db-shm", "secrets/jwt-signing-key", "secrets/webhook-signing-key" };
            foreach (var file in files)
                Assert.AreEqual(File600, File.GetUnixFileMode(Path.Combine(home, file)), file);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(home)!, recursive: true);
        }
    }

    [TestMethod]
    public void AnExistingHomeWithLooserModesIsTightenedWhenOpened()
    {
        var home = Path.Combine(Path.GetTempPath(), $"poolai-home-{Guid.NewGuid():N}");
        var database = Path.Combine(home, "pool.db");
        try
        {
            // A home as an earlier PoolAI left it: world-readable, with a database in write-ahead-log mode that another
            // process has open (so its log and shared memory exist), a stale rollback journal and a secret.
            Directory.CreateDirectory(Path.Combine(home, "secrets"));
            using var other = new SqliteConnection($"Data Source={database};Pooling=False");
            other.Open();
            using (var command = other.CreateCommand())
            {
                command.CommandText = "PRAGMA journal_mode = WAL; CREATE TABLE probe (x INTEGER); INSERT INTO probe VALUES (1);";
                command.ExecuteNonQuery();
            }

            File.WriteAllBytes(Path.Combine(home, "pool.db-journal"), []);
            File.WriteAllBytes(Path.Combine(home, "secrets", "jwt-signing-key"), []);
            foreach (var file in Files)
                File.SetUnixFileMode(Path.Combine(home, file), WorldReadable);
            File.SetUnixFileMode(home, Folder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            File.SetUnixFileMode(Path.Combine(home, "secrets"), Folder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);

            PoolHome.Secure(home);
            SqliteSchema.Apply($"Data Source={database};Pooling=False");

            Assert.AreEqual(Folder, File.GetUnixFileMode(home), "the home folder");
            Assert.AreEqual(Folder, File.GetUnixFileMode(Path.Combine(home, "secrets")), "secrets/");
            foreach (var file in Files)
                Assert.AreEqual(File600, File.GetUnixFileMode(Path.Combine(home, file)), file);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static readonly string[] Files = ["pool.db", "pool.db-wal", "pool.db-shm", "pool.db-journal", "secrets/jwt-signing-key"];

    [TestMethod]
    public void ANewDatabaseAndItsWriteAheadLogAreTheOwnersAlone()
    {
        var root = Path.Combine(Path.GetTempPath(), $"poolai-home-{Guid.NewGuid():N}");
        var database = Path.Combine(root, "nested", "pool.db");
        try
        {
            SqliteSchema.Apply($"Data Source={database};Pooling=False");
            // A write with the connection open: the write-ahead log and its shared memory exist now.
            using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE IF NOT EXISTS probe (x INTEGER); INSERT INTO probe VALUES (1);";
            command.ExecuteNonQuery();

            Assert.AreEqual(Folder, File.GetUnixFileMode(root), "a folder made for the database");
            Assert.AreEqual(Folder, File.GetUnixFileMode(Path.Combine(root, "nested")), "a folder made for the database");
            foreach (var file in new[] { "pool.db", "pool.db-wal", "pool.db-shm" })
                Assert.AreEqual(File600, File.GetUnixFileMode(Path.Combine(root, "nested", file)), file);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }
}
