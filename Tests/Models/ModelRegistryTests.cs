using PoolAI.Jobs;
using PoolAI.Models;

namespace PoolAI.Tests.Models;

[TestClass]
public sealed class ModelRegistryTests
{
    [TestMethod]
    public void AModelWhoseCheckpointArrivesInTheFolderIsKnownFromTheFirstLookupThatNamesIt()
    {
        var folder = Directory.CreateTempSubdirectory("poolai-registry-").FullName;
        try
        {
            var registry = new ModelRegistry(folder);
            Assert.IsFalse(registry.Contains(TestModels.Shakespeare));
            // That miss read the folder; misses read it at most once per interval, so let the interval pass.
            Thread.Sleep(ModelRegistry.MissRescanInterval);

            // Another process (a coordinator's mirror) puts a checkpoint in the shared folder.
            CopyCheckpoint(Path.Combine(folder, "arrived"));

            Assert.IsTrue(registry.Contains("arrived"), "a miss reads the folder again");
            Assert.AreEqual("arrived", registry.Get("arrived").Id);
            registry.Validate("arrived", "text", "ROMEO:");
            var unknown = Assert.ThrowsExactly<JobValidationException>(() => registry.Validate("nowhere", "text", "ROMEO:"));
            Assert.AreEqual(("model", "unknown model 'nowhere'; known models: arrived"), (unknown.Field, unknown.Rule));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void CopyCheckpoint(string target)
    {
        var source = TestModels.Registry.PathOf(TestModels.Shakespeare);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
    }
}
