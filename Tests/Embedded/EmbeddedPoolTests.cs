using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PoolAI.Client.Sdk;
using PoolAI.Inference;
using PoolAI.Models;
using PoolAI.Silo.Hosting;

namespace PoolAI.Tests.Embedded;

/// <summary>The SDK's embedded all-in-one pool (what the CLI runs when no pool is configured or listening).</summary>
[TestClass]
public sealed class EmbeddedPoolTests
{
    private static IConfiguration Configuration(string? drainTimeout, string? decoder = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["PoolAI:Storage:Provider"] = "process",
            ["PoolAI:Cluster:GatewayPort"] = TestPorts.FreeText(),
            ["PoolAI:Cluster:SiloPort"] = TestPorts.FreeText(),
        };
        if (drainTimeout is not null)
            settings["PoolAI:Miner:DrainTimeout"] = drainTimeout;
        if (decoder is not null)
            settings["PoolAI:Miner:Decoder"] = decoder;
        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    [TestMethod]
    public async Task AnEmbeddedPoolHandsBackAtOnceWhenItStopsUnlessADrainTimeoutIsConfigured()
    {
        await using (var embedded = await PoolConnection.OpenAsync(Configuration(drainTimeout: null)))
        {
            Assert.AreEqual(PoolConnectionKind.Embedded, embedded.Kind);
            Assert.AreEqual(TimeSpan.Zero, embedded.Services.GetRequiredService<IOptions<PoolMinerOptions>>().Value.DrainTimeout,
                "its owner stops it when its own jobs have ended: nothing is waited for (a miner waits 10 s)");
        }

        await using var configured = await PoolConnection.OpenAsync(Configuration(drainTimeout: "00:00:03"));
        Assert.AreEqual(TimeSpan.FromSeconds(3), configured.Services.GetRequiredService<IOptions<PoolMinerOptions>>().Value.DrainTimeout);
    }

    [TestMethod]
    public async Task TheDecoderSettingPicksTheServedModelsArithmeticAndABadOneIsRefusedNamingIt()
    {
        await using (var native = await PoolConnection.OpenAsync(Configuration(drainTimeout: null)))
            Assert.AreEqual(DecodeEngine.Version, native.Services.GetRequiredService<ModelHost>().Get(TestModels.Shakespeare).DecodeVersion);
        await using (var torch = await PoolConnection.OpenAsync(Configuration(drainTimeout: null, decoder: "torch")))
            Assert.AreEqual(DecodeEngine.TorchVersion, torch.Services.GetRequiredService<ModelHost>().Get(TestModels.Shakespeare).DecodeVersion);

        var error = await Assert.ThrowsExactlyAsync<PoolConfigurationException>(() => PoolConnection.OpenAsync(Configuration(drainTimeout: null, decoder: "fast")));
        StringAssert.Contains(error.Message, "PoolAI:Miner:Decoder");
        StringAssert.Contains(error.Message, "'fast'");
    }
}
