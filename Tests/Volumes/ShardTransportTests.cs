using System.Net;
using System.Net.Sockets;
using PoolAI.Volumes;

namespace PoolAI.Tests.Volumes;

/// <summary>Shard tokens (what the stores' shard transport checks) and the client's fallback to the stores' grains.</summary>
[TestClass]
public sealed class ShardTransportTests
{
    private static readonly byte[] Key = ShardTokens.DeriveKey(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
    private static readonly DateTimeOffset Now = new(2026, 12, 8, 12, 0, 0, TimeSpan.Zero);

    [TestMethod]
    public void ATokenAllowsItsVolumeAndAccessUntilItExpiresAndNothingElse()
    {
        var write = ShardTokens.Issue(Key, "models", write: true, Now.AddMinutes(10));
        var read = ShardTokens.Issue(Key, "models", write: false, Now.AddMinutes(10));

        Assert.IsNull(ShardTokens.Check(Key, write, "models", write: true, Now));
        Assert.IsNull(ShardTokens.Check(Key, write, "models", write: false, Now), "a write token also reads");
        Assert.IsNull(ShardTokens.Check(Key, read, "models", write: false, Now.AddMinutes(10)));
        Assert.AreEqual("the shard token allows reads only", ShardTokens.Check(Key, read, "models", write: true, Now));
        Assert.AreEqual("the shard token is for volume 'models', not 'data'", ShardTokens.Check(Key, read, "data", write: false, Now));
        Assert.AreEqual("the shard token expired at 2026-12-08 12:10:00Z", ShardTokens.Check(Key, read, "models", write: false, Now.AddMinutes(10).AddSeconds(1)));
        Assert.AreEqual($"no shard token (header {ShardTokens.Header})", ShardTokens.Check(Key, "", "models", write: false, Now));
        Assert.AreEqual("the shard token's signature does not match (not issued by this pool)", ShardTokens.Check(ShardTokens.DeriveKey(new byte[32]), read, "models", write: false, Now));
        // Another volume's or access's payload under this signature: the signature covers them.
        var (payload, mac) = (read.Split('.')[0], read.Split('.')[1]);
        var otherPayload = ShardTokens.Issue(Key, "data", write: true, Now.AddMinutes(10)).Split('.')[0];
        Assert.AreEqual("the shard token's signature does not match (not issued by this pool)", ShardTokens.Check(Key, $"{otherPayload}.{mac}", "data", write: true, Now));
        Assert.AreEqual("the shard token is not base64url", ShardTokens.Check(Key, $"{payload}.%%%", "models", write: false, Now));

        // A writer's token puts only its own write's shards, and still reads the volume.
        var mine = Guid.NewGuid();
        var writer = ShardTokens.Issue(Key, "models", write: true, Now.AddMinutes(10), mine);
        Assert.IsNull(ShardTokens.Check(Key, writer, "models", write: true, Now, mine));
        Assert.AreEqual($"the shard token puts only shards of write {mine:N}", ShardTokens.Check(Key, writer, "models", write: true, Now, Guid.NewGuid()));
        Assert.IsNull(ShardTokens.Check(Key, writer, "models", write: false, Now, Guid.NewGuid()));
        Assert.AreEqual("the shard token's signature does not match (not issued by this pool)", ShardTokens.Check(Key, "no-dot", "models", write: false, Now));
    }

    [TestMethod]
    public async Task AnUnreachableTransportFallsBackToTheGrain()
    {
        // A port nothing listens on.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var endpoint = $"http://127.0.0.1:{port}";
        var token = ShardTokens.Issue(Key, "models", write: true, DateTimeOffset.UtcNow.AddMinutes(10));
        var before = ShardTransport.Counts;

        Assert.IsNull(await ShardTransport.TryPutAsync(endpoint, token, "store-1", ShardIds.Of("models", Guid.NewGuid(), 0, 0), new byte[64]));
        Assert.IsNull(await ShardTransport.TryGetAsync(endpoint, token, "store-1", ShardIds.Of("models", Guid.NewGuid(), 0, 0)));

        Assert.IsTrue(ShardTransport.Counts.Fallbacks - before.Fallbacks >= 2, "both calls fell back");

    }
}
