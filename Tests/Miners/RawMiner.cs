using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using PoolAI.Miners.Channel;

namespace PoolAI.Tests.Miners;

/// <summary>A miner written by hand on the channel's messages: the tests make it cheat.</summary>
public sealed class RawMiner : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<MinerMessage, PoolMessage> _call;
    private readonly Channel<PoolMessage> _inbox = Channel.CreateUnbounded<PoolMessage>();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly Task _reading;
    private readonly List<PoolMessage> _kept = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _heartbeats = Task.CompletedTask;

    private RawMiner(GrpcChannel channel, AsyncDuplexStreamingCall<MinerMessage, PoolMessage> call)
    {
        _channel = channel;
        _call = call;
        _reading = ReadAsync();
    }

    /// <summary>How the stream ended; null while open.</summary>
    public RpcException? Ended { get; private set; }

    /// <summary>The registration answer.</summary>
    public Registered? Registered { get; private set; }

    /// <summary>A register message for a CPU miner of the shipped model.</summary>
    /// <remarks>Tests give each of their miners a memory size of its own, and their jobs that size as a requirement, so a
    /// job reaches only the miner its test meant, however many other tests' miners share the pool.</remarks>
    public static Register Registration(string device = "cpu", int slots = 4, long memoryMb = 4096, params string[] models)
    {
        var register = new Register { Device = device, Cores = 2, MemoryMb = memoryMb, GpuMemoryMb = device == "cuda" ? 8192 : 0, Slots = slots };
        register.Models.AddRange(models.Length > 0 ? models : [TestModels.Shakespeare]);
        register.Kinds.AddRange(["TextGeneration", "System"]);
        return register;
    }

    /// <summary>Opens a stream with <paramref name="key"/> and sends <paramref name="register"/>; returns once the pool answered or ended the stream.</summary>
    /// <remarks>With <c>heartbeats</c>, it sends heartbeats as the pool asks (a miner that sends nothing is taken as gone).</remarks>
    public static async Task<RawMiner> ConnectAsync(OpenMinerPool pool, string key, Register? register, int maxSendBytes = 256 * 1024 * 1024, bool heartbeats = true)
    {
        var client = pool.RawClient(out var channel, maxSendBytes);
        var miner = new RawMiner(channel, client.Connect(OpenMinerPool.Bearer(key)));
        if (register is not null)
        {
            await miner.SendAsync(new MinerMessage { Register = register });
            var first = await miner.NextAsync(_ => true, TimeSpan.FromSeconds(30));
            miner.Registered = first?.Registered;
            if (heartbeats && miner.Registered is { } registered)
                miner._heartbeats = miner.HeartbeatAsync(TimeSpan.FromMilliseconds(Math.Max(100, registered.HeartbeatIntervalMs)));
        }

        return miner;
    }

    private async Task HeartbeatAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token) && await SendAsync(new MinerMessage { Heartbeat = new Heartbeat() }))
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sends <paramref name="message"/>; false when the stream is already closed.</summary>
    public async Task<bool> SendAsync(MinerMessage message)
    {
        await _writing.WaitAsync();
        try
        {
            await _call.RequestStream.WriteAsync(message);
            return true;
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
        {
            return false;
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>The next message from the pool that matches (others are kept for later calls), or null when the stream ended or the time ran out first.</summary>
    public async Task<PoolMessage?> NextAsync(Func<PoolMessage, bool> match, TimeSpan timeout)
    {
        var kept = _kept.FindIndex(m => match(m));
        if (kept >= 0)
        {
            var message = _kept[kept];
            _kept.RemoveAt(kept);
            return message;
        }

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (await _inbox.Reader.WaitToReadAsync(cancel.Token))
            {
                while (_inbox.Reader.TryRead(out var message))
                {
                    if (match(message))
                        return message;
                    _kept.Add(message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return null;
    }

    /// <summary>Waits until the pool ends the stream; returns how it ended (null when the time ran out first).</summary>
    public async Task<RpcException?> EndedAsync(TimeSpan timeout)
    {
        await Task.WhenAny(_reading, Task.Delay(timeout));
        return Ended;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _heartbeats;
        _call.Dispose();
        await _reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _channel.Dispose();
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var message in _call.ResponseStream.ReadAllAsync())
                _inbox.Writer.TryWrite(message);
            Ended = new RpcException(_call.GetStatus());
        }
        catch (RpcException ex)
        {
            Ended = ex;
        }
        catch (Exception ex)
        {
            Ended = new RpcException(new Status(StatusCode.Unknown, ex.Message));
        }
        finally
        {
            _inbox.Writer.TryComplete();
        }
    }
}
