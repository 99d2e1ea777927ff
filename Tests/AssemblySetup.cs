using PoolAI.Libraries;

[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.ClassLevel)]

namespace PoolAI.Tests;

[TestClass]
public static class AssemblySetup
{
    /// <summary>The library manager's first duty, before any test makes a tensor.</summary>
    [AssemblyInitialize]
    public static void LoadTorch(TestContext context) => TorchLibraries.EnsureLoaded();

    [AssemblyCleanup]
    public static async Task StopSharedResources()
    {
        await SharedPool.DisposeAsync();
        Postgres.PostgresServer.StopOwn();
        if (Directory.Exists(TestPools.StoresRoot))
            Directory.Delete(TestPools.StoresRoot, recursive: true);
    }
}
