using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using PoolAI.Benchmarks.Failover;
using PoolAI.Benchmarks.Scheduling;
using PoolAI.Client.Sdk;
using PoolAI.Jobs;
using PoolAI.Miners.Channel;

namespace PoolAI.Benchmarks.Miners;

/// <summary>
/// The cost of the trust boundary, in real processes on loopback: a gateway process hosting a coordinator-only pool
/// (it serves nothing itself) and the miner channel on an h2c endpoint.
/// <list type="number">
/// <item>Generation: tokens/s of 1 and 16 concurrent streams on one in-cluster (trusted) miner process, then on one open
/// miner process with the same settings (slots and batch 16), in the same run; the ratio open / in-cluster.</item>
/// <item>No-op dispatch through the channel: jobs/s of no-op system jobs served only by <c>miners</c> simulated open
/// miners in this process (a load tool that speaks the channel and answers each lease at once).</item>
/// <item>Idle connections: <c>connections</c> simulated miners connected and idle to an edge gateway (a second
/// gateway process, an Orleans client of the coordinator); its resident memory per connection and its CPU (user +
/// system, as a share of one core) over a quiet window with only heartbeats, against the same window before.</item>
/// </list>
/// </summary>
public static class OpenMinerBenchmark
{
    private const string Model = "shakespeare-char";

    /// <summary>Runs the three parts and returns their figures.</summary>
    public static async Task<OpenMinerResult> RunAsync(int tokens, int repeats, int noopMiners, int noopJobs, int connections, TimeSpan idleWindow, Action<string> log)
    {
        var httpPort = PoolProcess.FreePort();
        var channelPort = PoolProcess.FreePort();
        var gatewayPort = PoolProcess.FreePort();
        using var gateway = PoolProcess.Start("PoolAI.Gateway.dll", httpPort, gatewayPort, new Dictionary<string, string>
        {
            ["PoolAI__Role"] = "coordinator",
            ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{httpPort}",
            ["Kestrel__Endpoints__Miners__Url"] = $"http://127.0.0.1:{channelPort}",
            ["Kestrel__Endpoints__Miners__Protocols"] = "Http2",
            ["PoolAI__Gateway__Auth__SigningKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
            ["PoolAI__Gateway__Miners__ConnectionsPerAddressPerMinute"] = "1000000",
            ["PoolAI__Rewards__VerificationShare"] = "0",
            ["PoolAI__Jobs__ResultCacheTimeToLive"] = "00:00:00",
            ["PoolAI__Storage__Provider"] = "memory",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        });
        await gateway.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
        await using var connection = await PoolConnection.OpenAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PoolAI:Client:Gateways"] = $"127.0.0.1:{gatewayPort}",
        }).Build());
        var pool = connection.Client;
        var channel = new Uri($"http://127.0.0.1:{channelPort}");

        // 1. Idle connections on an edge gateway of their own (an Orleans client of the coordinator, as a pool with many
        // miners would run it): its memory per connection, and its CPU over a quiet window without and then with the
        // connections (the difference is what their heartbeats cost it).
        var edgeChannelPort = PoolProcess.FreePort();
        var edgeHttpPort = PoolProcess.FreePort();
        using var edge = PoolProcess.Start("PoolAI.Gateway.dll", edgeHttpPort, 0, new Dictionary<string, string>
        {
            ["PoolAI__Client__Gateways"] = $"127.0.0.1:{gatewayPort}",
            ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{edgeHttpPort}",
            ["Kestrel__Endpoints__Miners__Url"] = $"http://127.0.0.1:{edgeChannelPort}",
            ["Kestrel__Endpoints__Miners__Protocols"] = "Http2",
            ["PoolAI__Gateway__Auth__SigningKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
            ["PoolAI__Gateway__Miners__ConnectionsPerAddressPerMinute"] = "1000000",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        });
        await edge.WaitForLogAsync("Application started", TimeSpan.FromMinutes(2));
        await Task.Delay(TimeSpan.FromSeconds(5));
        var cpuIdle = await CpuShareAsync(edge.Id, idleWindow);
        var before = ResidentBytes(edge.Id);
        log($"open-miners: {connections} idle simulated miners on an edge gateway (RSS before: {before / 1048576.0:0} MiB, CPU idle {cpuIdle * 100:0.0} % of a core)");
        var idle = await ConnectAsync(pool, new Uri($"http://127.0.0.1:{edgeChannelPort}"), connections, answer: false, log);
        await Task.Delay(TimeSpan.FromSeconds(15)); // registrations and first heartbeats settle
        var after = ResidentBytes(edge.Id);
        var cpuConnected = await CpuShareAsync(edge.Id, idleWindow);
        var alive = idle.Count(m => !m.Ended);
        await DisposeAllAsync(idle);
        log($"open-miners: {alive} of {connections} connected: edge RSS {after / 1048576.0:0} MiB, CPU {cpuConnected * 100:0.0} % of a core");
        edge.Terminate();

        // 2. Generation on one in-cluster miner, then on one open miner.
        var settings = new Dictionary<string, string> { ["PoolAI__Miner__Slots"] = "16", ["PoolAI__Miner__MaxBatch"] = "16", ["Logging__LogLevel__Default"] = "Warning" };
        log("open-miners: generation on an in-cluster miner");
        GenerationFigures inCluster, open;
        using (var trusted = PoolProcess.Start("PoolAI.Silo.dll", PoolProcess.FreePort(), 0, new Dictionary<string, string>(settings)
        {
            ["PoolAI__Cluster__Clustering"] = "localhost",
            ["PoolAI__Cluster__PrimarySiloPort"] = gateway.SiloPort.ToString(CultureInfo.InvariantCulture),
            ["PoolAI__Cluster__GatewayPort"] = "0",
            ["PoolAI__Storage__Provider"] = "memory",
            ["Logging__LogLevel__PoolAI.Silo.Workers.WorkerRegistration"] = "Information",
        }, "--role", "miner"))
        {
            await trusted.WaitForLogAsync("registered: serves", TimeSpan.FromMinutes(2));
            inCluster = await GenerationAsync(pool, tokens, repeats);
            trusted.Terminate();
            await trusted.WaitForExitAsync(TimeSpan.FromMinutes(1));
        }

        log("open-miners: generation on an open miner");
        var (_, key) = await pool.CreateApiKeyAsync("miner", "bench-open");
        using (var miner = PoolProcess.Start("poolai.dll", PoolProcess.FreePort(), 0, new Dictionary<string, string>(settings)
        {
            ["Logging__LogLevel__PoolAI.Silo.Miners.OpenMinerClient"] = "Information",
        }, "silo", "--role", "miner", "--pool", channel.ToString(), "--key", key))
        {
            await miner.WaitForLogAsync("registered with the pool", TimeSpan.FromMinutes(2));
            await WaitServedAsync(pool);
            open = await GenerationAsync(pool, tokens, repeats);
            miner.Terminate();
            await miner.WaitForExitAsync(TimeSpan.FromMinutes(1));
        }

        // 3. No-op dispatch through the channel.
        log($"open-miners: {noopJobs} no-op jobs through {noopMiners} simulated open miners");
        var simulated = await ConnectAsync(pool, channel, noopMiners, answer: true, log);
        await NoopJobs.ThroughputAsync(pool, Math.Min(2_000, noopJobs), 200); // warm-up
        var noopRates = new List<double>();
        for (var r = 0; r < repeats; r++)
            noopRates.Add(await NoopJobs.ThroughputAsync(pool, noopJobs, 500));
        await DisposeAllAsync(simulated);

        return new OpenMinerResult(
            tokens, inCluster, open, inCluster.One.Median > 0 ? open.One.Median / inCluster.One.Median : 0, inCluster.Sixteen.Median > 0 ? open.Sixteen.Median / inCluster.Sixteen.Median : 0,
            noopMiners, noopJobs, Summary.Of(noopRates),
            connections, alive, before / 1048576.0, after / 1048576.0, (after - before) / 1024.0 / connections, idleWindow.TotalSeconds,
            cpuIdle * 100, cpuConnected * 100, Math.Max(0, cpuConnected - cpuIdle) * 100);
    }

    /// <summary>Waits until a generation runs (the open miner's slots reach the queue within a second of its registration).</summary>
    private static async Task WaitServedAsync(PoolClient pool)
    {
        var job = await pool.GenerateAsync(Model, new GenerationSettings("ROMEO:", 5, 0.8f, 0, 1f, 1), noCache: true);
        if (job.Status != JobStatus.Succeeded)
            throw new InvalidOperationException($"the warm-up job ended {job.Status}: {job.StatusMessage}");
    }

    private static async Task<GenerationFigures> GenerationAsync(PoolClient pool, int tokens, int repeats)
    {
        var seed = 0;
        async Task<double> RoundAsync(int streams)
        {
            var watch = Stopwatch.StartNew();
            var jobs = await Task.WhenAll(Enumerable.Range(0, streams).Select(_ =>
                pool.GenerateAsync(Model, new GenerationSettings("ROMEO:", tokens, 0.8f, 0, 1f, Interlocked.Increment(ref seed)), noCache: true)));
            var elapsed = watch.Elapsed.TotalSeconds;
            if (jobs.FirstOrDefault(j => j.Status != JobStatus.Succeeded || j.Result?.Text?.TokensGenerated != tokens) is { } bad)
                throw new InvalidOperationException($"job {bad.Id} ended {bad.Status} ({bad.StatusMessage}) with {bad.Result?.Text?.TokensGenerated ?? 0} of {tokens} tokens");
            return jobs.Sum(j => j.Result!.Text!.TokensGenerated) / elapsed;
        }

        await RoundAsync(16); // warm-up
        var one = new List<double>();
        var sixteen = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            one.Add(await RoundAsync(1));
            sixteen.Add(await RoundAsync(16));
        }

        return new GenerationFigures(Summary.Of(one), Summary.Of(sixteen));
    }

    /// <summary>Connects <paramref name="count"/> simulated miners, each with a key and an HTTP/2 connection of its own.</summary>
    private static async Task<List<SimulatedMiner>> ConnectAsync(PoolClient pool, Uri channel, int count, bool answer, Action<string> log)
    {
        var keys = new string[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            keys[i] = (await pool.CreateApiKeyAsync("miner", $"sim-{i}")).Key);
        var miners = new SimulatedMiner[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
            miners[i] = await SimulatedMiner.ConnectAsync(channel, keys[i], answer));
        log($"open-miners: {count} simulated miners registered");
        return [.. miners];
    }

    private static async Task DisposeAllAsync(IEnumerable<SimulatedMiner> miners)
    {
        foreach (var miner in miners)
            await miner.DisposeAsync();
    }

    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>The process's CPU time over <paramref name="window"/>, as a share of one core.</summary>
    private static async Task<double> CpuShareAsync(int pid, TimeSpan window)
    {
        var start = CpuSeconds(pid);
        var watch = Stopwatch.StartNew();
        await Task.Delay(window);
        return (CpuSeconds(pid) - start) / watch.Elapsed.TotalSeconds;
    }

    private static double CpuSeconds(int pid)
    {
        // Fields 14 and 15 of /proc/PID/stat (after the command in parentheses): user and system time in clock ticks.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>A miner made of the channel's messages: registers for no-op system jobs and, if told to, completes each lease at once.</summary>
    private sealed class SimulatedMiner : IAsyncDisposable
    {
        private readonly GrpcChannel _channel;
        private readonly AsyncDuplexStreamingCall<MinerMessage, PoolMessage> _call;
        private readonly Channel<MinerMessage> _outgoing = Channel.CreateUnbounded<MinerMessage>(new UnboundedChannelOptions { SingleReader = true });
        private readonly CancellationTokenSource _stop = new();
        private Task _run = Task.CompletedTask;

        private SimulatedMiner(GrpcChannel channel, AsyncDuplexStreamingCall<MinerMessage, PoolMessage> call)
        {
            _channel = channel;
            _call = call;
        }

        public bool Ended { get; private set; }

        public static async Task<SimulatedMiner> ConnectAsync(Uri address, string key, bool answer)
        {
            var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan } });
            var call = new MinerChannel.MinerChannelClient(channel).Connect(new Metadata { { "authorization", $"Bearer {key}" } });
            var miner = new SimulatedMiner(channel, call);
            var register = new Register { Device = "cpu", Cores = 1, MemoryMb = 1024, Slots = 8 };
            register.Kinds.Add("System");
            await call.RequestStream.WriteAsync(new MinerMessage { Register = register });
            if (!await call.ResponseStream.MoveNext() || call.ResponseStream.Current.BodyCase != PoolMessage.BodyOneofCase.Registered)
                throw new InvalidOperationException("the pool did not register a simulated miner");
            var heartbeat = TimeSpan.FromMilliseconds(call.ResponseStream.Current.Registered.HeartbeatIntervalMs);
            miner._run = Task.WhenAll(miner.ReadAsync(answer), miner.WriteAsync(), miner.HeartbeatAsync(heartbeat));
            return miner;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _outgoing.Writer.TryComplete();
            _call.Dispose();
            await _run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _channel.Dispose();
        }

        private async Task ReadAsync(bool answer)
        {
            try
            {
                await foreach (var message in _call.ResponseStream.ReadAllAsync(_stop.Token))
                {
                    if (answer && message.BodyCase == PoolMessage.BodyOneofCase.Lease)
                        _outgoing.Writer.TryWrite(new MinerMessage { Complete = new Complete { Lease = message.Lease.Lease_, OutputJson = """{"summary":"","artifacts":[]}""", Concurrency = 1 } });
                }
            }
            finally
            {
                Ended = true;
            }
        }

        private async Task WriteAsync()
        {
            await foreach (var message in _outgoing.Reader.ReadAllAsync(_stop.Token))
                await _call.RequestStream.WriteAsync(message, _stop.Token);
        }

        private async Task HeartbeatAsync(TimeSpan interval)
        {
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(_stop.Token))
                _outgoing.Writer.TryWrite(new MinerMessage { Heartbeat = new Heartbeat() });
        }
    }
}

/// <summary>Tokens/s at 1 and 16 concurrent streams (median and range over repeats).</summary>
public sealed record GenerationFigures(Summary One, Summary Sixteen);

/// <summary>What <see cref="OpenMinerBenchmark"/> measured.</summary>
public sealed record OpenMinerResult(
    int TokensPerStream,
    GenerationFigures InCluster,
    GenerationFigures Open,
    double RatioOne,
    double RatioSixteen,
    int NoopMiners,
    int NoopJobs,
    Summary NoopJobsPerSecond,
    int Connections,
    int ConnectionsAlive,
    double GatewayRssBeforeMb,
    double GatewayRssAfterMb,
    double KibPerConnection,
    double IdleWindowSeconds,
    double GatewayCpuPercentWithout,
    double GatewayCpuPercentWith,
    double HeartbeatCpuPercentOfCore);
