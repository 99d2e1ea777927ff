using System.Diagnostics;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using TorchSharp;

namespace PoolAI.Libraries;

/// <summary>
/// The native ML libraries of one silo, keyed by the silo's address (as <see cref="SiloAddress.ToString"/> writes it)
/// and activated on that silo (<see cref="SiloPinnedPlacementAttribute"/>).
/// </summary>
[Alias("poolai.ILibraryGrain")]
public interface ILibraryGrain : IGrainWithStringKey
{
    /// <summary>What the library manager found, without loading anything new.</summary>
    [Alias("Check")]
    Task<LibraryReport> CheckAsync();

    /// <summary>Loads TorchSharp's native libraries on the silo, repairing what the host needs (idempotent), and reports.</summary>
    [Alias("Install")]
    Task<LibraryReport> InstallAsync();

    /// <summary>Runs a known tensor computation and checks its result.</summary>
    [Alias("Verify")]
    Task<LibraryVerification> VerifyAsync();

    /// <summary>The silo's machine and the settings the native libraries read.</summary>
    [Alias("Environment")]
    Task<LibraryEnvironment> EnvironmentAsync();
}

/// <summary>The outcome of a verification.</summary>
/// <param name="Silo">Where it ran.</param>
/// <param name="Ok">The result was right.</param>
/// <param name="Detail">What was computed and found.</param>
/// <param name="Milliseconds">How long it took, ms.</param>
[GenerateSerializer, Immutable, Alias("poolai.LibraryVerification")]
public sealed record LibraryVerification([property: Id(0)] string Silo, [property: Id(1)] bool Ok, [property: Id(2)] string Detail, [property: Id(3)] double Milliseconds);

/// <summary>A silo's machine and the variables the native libraries read.</summary>
/// <param name="Silo">The silo.</param>
/// <param name="Os">Operating system.</param>
/// <param name="Architecture">Process architecture.</param>
/// <param name="Runtime">.NET runtime.</param>
/// <param name="Cores">Logical processors.</param>
/// <param name="MemoryMb">Memory available to the process, MiB.</param>
/// <param name="Variables">LD_LIBRARY_PATH, OMP/MKL thread counts, CUDA and TORCH variables that are set.</param>
[GenerateSerializer, Immutable, Alias("poolai.LibraryEnvironment")]
public sealed record LibraryEnvironment(
    [property: Id(0)] string Silo,
    [property: Id(1)] string Os,
    [property: Id(2)] string Architecture,
    [property: Id(3)] string Runtime,
    [property: Id(4)] int Cores,
    [property: Id(5)] long MemoryMb,
    [property: Id(6)] IReadOnlyDictionary<string, string> Variables);

/// <summary>Answers for the libraries of the silo it lives on.</summary>
[SiloPinnedPlacement]
[Immovable] // it answers for the silo it lives on
public sealed class LibraryGrain(ILocalSiloDetails silo) : Grain, ILibraryGrain
{
    /// <inheritdoc />
    public Task<LibraryReport> CheckAsync() => Task.Run(TorchLibraries.Inspect);

    /// <inheritdoc />
    public Task<LibraryReport> InstallAsync() => Task.Run(TorchLibraries.EnsureLoaded);

    /// <inheritdoc />
    public Task<LibraryVerification> VerifyAsync() => Task.Run(() =>
    {
        var name = silo.SiloAddress.ToString();
        var clock = Stopwatch.StartNew();
        try
        {
            TorchLibraries.EnsureLoaded();
            // [[1,2],[3,4]] · [[5,6],[7,8]] = [[19,22],[43,50]]
            using var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
            using var b = torch.tensor(new float[] { 5, 6, 7, 8 }).reshape(2, 2);
            using var c = a.matmul(b);
            var values = c.data<float>().ToArray();
            var ok = values.SequenceEqual(new float[] { 19, 22, 43, 50 });
            return new LibraryVerification(name, ok, $"2×2 matmul gave [{string.Join(", ", values)}], expected [19, 22, 43, 50]", clock.Elapsed.TotalMilliseconds);
        }
        catch (Exception ex)
        {
            return new LibraryVerification(name, false, $"{ex.GetType().Name}: {ex.Message}", clock.Elapsed.TotalMilliseconds);
        }
    });

    /// <inheritdoc />
    public Task<LibraryEnvironment> EnvironmentAsync()
    {
        var variables = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => (Key: (string)e.Key, Value: e.Value as string ?? string.Empty))
            .Where(e => e.Key is "LD_LIBRARY_PATH" or "OMP_NUM_THREADS" or "MKL_NUM_THREADS" || e.Key.StartsWith("CUDA", StringComparison.Ordinal) || e.Key.StartsWith("TORCH", StringComparison.Ordinal))
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .ToDictionary(e => e.Key, e => e.Value);
        return Task.FromResult(new LibraryEnvironment(
            silo.SiloAddress.ToString(), System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString(), Environment.Version.ToString(),
            Environment.ProcessorCount, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024), variables));
    }
}

/// <summary>Places a grain on the silo its string key names (as <see cref="SiloAddress.ToString"/> writes it).</summary>
[GenerateSerializer, Immutable, Alias("poolai.SiloPinnedPlacement")]
public sealed class SiloPinnedPlacement : PlacementStrategy;

/// <summary>Marks a grain class for <see cref="SiloPinnedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(new SiloPinnedPlacement());

/// <summary>Chooses the silo named by the grain's key; a silo that is not in the cluster is an error naming it.</summary>
public sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    /// <inheritdoc />
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString();
        var silo = context.GetCompatibleSilos(target).FirstOrDefault(s => s.ToString() == key);
        return silo is not null
            ? Task.FromResult(silo)
            : Task.FromException<SiloAddress>(new KeyNotFoundException($"no active silo {key} in the cluster"));
    }
}
