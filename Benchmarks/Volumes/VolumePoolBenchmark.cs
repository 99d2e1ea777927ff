using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using PoolAI.Benchmarks.Failover;
using PoolAI.Client.Sdk;
using PoolAI.Volumes;

namespace PoolAI.Benchmarks.Volumes;

/// <summary>
/// Volume throughput through a real pool on this machine: a coordinator and six miner silos (separate processes,
/// localhost clustering), one <c>rs:4+2</c> volume with 1 MiB shards (each shard fsync'd, as shipped), a client on the
/// coordinator's gateway (shards go straight to the miners' shard transport). After an untimed warm-up (the file written
/// and read once, and a 128 MiB one twice), measures writes and reads of one file, reads with two miners SIGKILLed (every stripe
/// reconstructed from parity), the rebuild onto two miners that join, and — as the reference — copying the same bytes
/// from one file to another on the same disk with an fsync.
/// </summary>
public static class VolumePoolBenchmark
{
    private const int MiB = 1 << 20;

    /// <summary>Runs it with a file of <paramref name="megabytes"/> MiB, <paramref name="repeats"/> times each.</summary>
    public static async Task<VolumePoolFigures> RunAsync(int megabytes, int repeats, Action<string> log)
    {
        var content = new byte[(long)megabytes * MiB];
        new Random(1).NextBytes(content);
        var local = LocalCopy(content, repeats);
        log($"volume-pool: local copy with fsync {local.Median:0} MB/s");

        var processes = new List<PoolProcess>();
        try
        {
            var common = new Dictionary<string, string>
            {
                ["PoolAI__Cluster__Clustering"] = "localhost",
                ["PoolAI__Storage__Provider"] = "memory",
                ["PoolAI__Volumes__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
                ["PoolAI__Volumes__CheckInterval"] = "00:00:01",
                ["PoolAI__Volumes__RebuildDelay"] = "00:00:00",
                ["PoolAI__Volumes__RebuildPriority"] = "high",
                ["PoolAI__Volumes__Store__FlushToDisk"] = Environment.GetEnvironmentVariable("VOLUME_BENCH_FSYNC") ?? "true",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
                ["Logging__LogLevel__PoolAI.Volumes.Stores"] = "Information",
                ["Logging__LogLevel__PoolAI.Volumes.VolumeMaintenanceGrain"] = "Information",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
            };
            var gatewayPort = PoolProcess.FreePort();
            var coordinator = PoolProcess.Start("PoolAI.Silo.dll", PoolProcess.FreePort(), gatewayPort, common, "--role", "coordinator");
            processes.Add(coordinator);
            await coordinator.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
            var miner = new Dictionary<string, string>(common)
            {
                ["PoolAI__Cluster__PrimarySiloPort"] = coordinator.SiloPort.ToString(CultureInfo.InvariantCulture),
                ["PoolAI__Cluster__GatewayPort"] = "0",
            };
            PoolProcess StartMiner()
            {
                var process = PoolProcess.Start("PoolAI.Silo.dll", PoolProcess.FreePort(), 0, miner, "--role", "miner");
                processes.Add(process);
                return process;
            }

            var miners = Enumerable.Range(0, 6).Select(_ => StartMiner()).ToList();
            foreach (var m in miners)
                await m.WaitForLogAsync("Chunk store", TimeSpan.FromMinutes(2));
            await using var connection = await PoolConnection.OpenAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["PoolAI:Client:Gateways"] = $"127.0.0.1:{gatewayPort}",
            }).Build());
            var volumes = connection.Volumes;
            await WaitForLiveStoresAsync(connection, 6);
            await volumes.CreateAsync("bench", new VolumeSpec("rs:4+2"));
            // Warm-up, untimed: a pool that has been up for a while runs its hot paths as optimised code (tiered
            // compilation promotes a method after 30 calls and a quiet pause, which a busy process postpones), so the
            // same file is written and read once, and a 128 MiB one twice, first in every process of the measured path.
            var warmUp = content.AsMemory(0, Math.Min(content.Length, 128 * MiB)).ToArray();
            foreach (var file in new[] { content, warmUp, warmUp })
            {
                await volumes.WriteAsync("bench", "warm-up.bin", new MemoryStream(file, writable: false));
                await using (var read = await volumes.OpenReadAsync("bench", "warm-up.bin"))
                    await read.CopyToAsync(Stream.Null, MiB);
            }

            await volumes.Volume("bench").DeleteFileAsync("warm-up.bin");
            var writes = new List<double>();
            for (var r = 0; r < repeats; r++)
            {
                var clock = Stopwatch.StartNew();
                await volumes.WriteAsync("bench", "file.bin", new MemoryStream(content, writable: false));
                writes.Add(content.Length / 1e6 / clock.Elapsed.TotalSeconds);
                log($"volume-pool: write {writes[^1]:0} MB/s");
            }

            var reads = await ReadsAsync(volumes, content.Length, repeats, "read", log);
            miners[0].KillHard();
            miners[1].KillHard();
            await WaitForLiveStoresAsync(connection, 4);
            var degraded = await ReadsAsync(volumes, content.Length, repeats, "degraded read", log);

            var before = (await volumes.Volume("bench").GetHealthAsync()).Stores.Select(x => x.Store).ToHashSet(StringComparer.Ordinal);
            // The clock starts when the first newcomer's store is announced (the rebuild can start placing shards then)
            // and stops at full redundancy; the second newcomer is started at the same time.
            var joined = new[] { StartMiner(), StartMiner() };
            var announced = joined.Select(m => m.WaitForLogAsync("Chunk store", TimeSpan.FromMinutes(2))).ToList();
            await Task.WhenAny(announced);
            var healing = Stopwatch.StartNew();
            await Task.WhenAll(announced);
            var directory = ((IGrainFactory)connection.Services.GetService(typeof(IClusterClient))!).GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default);
            VolumeHealth health;
            try
            {
                health = await WaitForHealthyAsync(volumes.Volume("bench"), TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("VOLUME_BENCH_REBUILD_TIMEOUT_S") ?? "600", CultureInfo.InvariantCulture)), log);
            }
            catch (TimeoutException)
            {
                log($"volume-pool: the store directory: {string.Join(", ", (await directory.GetStoresAsync()).Select(s => $"{s.StoreId} alive={s.Alive} dead-since={s.DeadSince:HH:mm:ss} {s.Reason}"))}");
                throw;
            }

            var seconds = healing.Elapsed.TotalSeconds;
            // What the rebuild restored is what the newcomers hold: it ran from their joining to full redundancy.
            var restored = health.Stores.Where(x => !before.Contains(x.Store)).ToList();
            var rebuiltShards = restored.Sum(x => x.Shards);
            // Shard bytes restored per second from the first newcomer's announcement to full redundancy: detection (the
            // next check, CheckInterval) included, as a user waiting for the volume to be whole sees it.
            var restoredBytes = restored.Sum(x => x.Bytes);
            var rebuild = restoredBytes / 1e6 / seconds;
            log($"volume-pool: rebuild {rebuiltShards} shards ({restoredBytes / 1e6:0} MB) onto the two newcomers: full redundancy {seconds:0.00} s after the first announced its store = {rebuild:0} MB/s");
            return new VolumePoolFigures(megabytes, Summary.Of(writes), Summary.Of(reads), Summary.Of(degraded), rebuild, rebuiltShards, seconds, local,
                Summary.Of(writes).Median / local.Median, Summary.Of(reads).Median / local.Median);
        }
        finally
        {
            // VOLUME_BENCH_LOGS=DIR keeps each process's log there (coordinator first, then the miners in start order).
            if (Environment.GetEnvironmentVariable("VOLUME_BENCH_LOGS") is { Length: > 0 } logs)
            {
                Directory.CreateDirectory(logs);
                for (var i = 0; i < processes.Count; i++)
                    File.WriteAllText(Path.Combine(logs, $"{i:00}.log"), processes[i].Log);
                log($"volume-pool: process logs in {logs}");
            }

            foreach (var process in processes)
                process.Dispose();
        }
    }

    private static async Task<List<double>> ReadsAsync(VolumeClient volumes, long length, int repeats, string what, Action<string> log)
    {
        var rates = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            await using (var read = await volumes.OpenReadAsync("bench", "file.bin"))
                await read.CopyToAsync(Stream.Null, MiB);
            rates.Add(length / 1e6 / clock.Elapsed.TotalSeconds);
            log($"volume-pool: {what} {rates[^1]:0} MB/s");
        }

        return rates;
    }

    /// <summary>MB/s copying <paramref name="content"/> from one file to another on the temp disk, fsync'd, <paramref name="repeats"/> times.</summary>
    private static Summary LocalCopy(byte[] content, int repeats)
    {
        var folder = Directory.CreateTempSubdirectory("poolai-copy-").FullName;
        try
        {
            var source = Path.Combine(folder, "source.bin");
            File.WriteAllBytes(source, content);
            var rates = new List<double>();
            for (var r = 0; r < repeats; r++)
            {
                var target = Path.Combine(folder, $"copy-{r}.bin");
                var clock = Stopwatch.StartNew();
                using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, MiB))
                using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, MiB))
                {
                    input.CopyTo(output, MiB);
                    output.Flush(flushToDisk: true);
                }

                rates.Add(content.Length / 1e6 / clock.Elapsed.TotalSeconds);
                File.Delete(target);
            }

            return Summary.Of(rates);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task WaitForLiveStoresAsync(PoolConnection connection, int live)
    {
        var directory = ((IGrainFactory)connection.Services.GetService(typeof(IClusterClient))!).GetGrain<IStoreDirectoryGrain>(IStoreDirectoryGrain.Default);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((await directory.GetStoresAsync()).Count(s => s.Alive) != live)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the pool did not reach {live} live stores");
            await Task.Delay(250);
        }
    }

    private static async Task<VolumeHealth> WaitForHealthyAsync(IVolumeGrain volume, TimeSpan timeout, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        var said = TimeSpan.Zero;
        while (true)
        {
            var health = await volume.GetHealthAsync();
            if (health.Healthy == health.Stripes && health.Stores.All(x => x.Alive))
                return health;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"rebuild did not finish: {health.Healthy}/{health.Stripes} healthy; {health.Repair}; {string.Join("; ", health.Repair?.Problems.Take(3) ?? [])}; stores holding shards: {string.Join(", ", health.Stores.Select(s => $"{s.Store} ({(s.Alive ? "alive" : "down")}, {s.Shards} shards)"))}");
            if (clock.Elapsed - said > TimeSpan.FromSeconds(10))
            {
                said = clock.Elapsed;
                log($"volume-pool: rebuilding, {health.Healthy}/{health.Stripes} stripes healthy");
            }

            await Task.Delay(100);
        }
    }
}

/// <summary>Figures of <see cref="VolumePoolBenchmark"/>; throughputs in MB/s (10⁶ bytes per second) of file bytes.</summary>
/// <param name="FileMegabytes">Size of the file written and read, MiB.</param>
/// <param name="WriteMbps">Writes through the pool.</param>
/// <param name="ReadMbps">Reads through the pool, all stores up.</param>
/// <param name="DegradedReadMbps">Reads with two of six miners killed: every stripe reconstructed.</param>
/// <param name="RebuildMbps">Shard bytes the rebuild restored onto two miners that joined, per second from the first one announcing its store to full redundancy.</param>
/// <param name="ShardsRebuilt">Shards it restored.</param>
/// <param name="HealSeconds">Those seconds: from the first newcomer's store announced to full redundancy (detection included).</param>
/// <param name="LocalCopyMbps">Copying the same bytes file to file on the same disk, fsync'd: the reference.</param>
/// <param name="WriteShareOfLocalCopy">Median write ÷ median local copy.</param>
/// <param name="ReadShareOfLocalCopy">Median read ÷ median local copy.</param>
public sealed record VolumePoolFigures(
    [property: JsonPropertyName("file_mib")] int FileMegabytes,
    [property: JsonPropertyName("write_mbps")] Summary WriteMbps,
    [property: JsonPropertyName("read_mbps")] Summary ReadMbps,
    [property: JsonPropertyName("degraded_read_mbps")] Summary DegradedReadMbps,
    [property: JsonPropertyName("rebuild_mbps")] double RebuildMbps,
    [property: JsonPropertyName("shards_rebuilt")] long ShardsRebuilt,
    [property: JsonPropertyName("heal_seconds")] double HealSeconds,
    [property: JsonPropertyName("local_copy_mbps")] Summary LocalCopyMbps,
    [property: JsonPropertyName("write_share_of_local_copy")] double WriteShareOfLocalCopy,
    [property: JsonPropertyName("read_share_of_local_copy")] double ReadShareOfLocalCopy);
