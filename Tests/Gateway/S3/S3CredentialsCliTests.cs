using System.Text.RegularExpressions;
using PoolAI.Auth;
using PoolAI.Tests.Cli;

namespace PoolAI.Tests.Gateway.S3;

/// <summary><c>poolai keys s3</c>: the operator prints a key's S3 credentials from the pool's S3 master secret.</summary>
[TestClass]
public sealed partial class S3CredentialsCliTests
{
    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public async Task KeysS3PrintsTheCredentialsTheGatewayDerivesForTheKey()
    {
        var master = Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray();
        var environment = new Dictionary<string, string>
        {
            ["POOLAI_HOME"] = Path.Combine(Path.GetTempPath(), $"poolai-s3-cli-{Guid.NewGuid():N}"),
            ["POOLAI__Gateway__S3__Secret"] = Convert.ToBase64String(master),
        };

        var created = await PoolaiProcess.RunAsync(environment, "keys", "create", "--role", "developer", "--name", "s3 user");
        var id = KeyId().Match(created.StandardError).Groups[1].Value;
        var printed = await PoolaiProcess.RunAsync(environment, "keys", "s3", id);
        var unknown = await PoolaiProcess.RunAsync(environment, "keys", "s3", "0123456789ab");

        Assert.AreEqual(0, printed.ExitCode, printed.StandardError);
        Assert.AreEqual($"aws_access_key_id = {S3Credentials.AccessKeyIdOf(id)}\naws_secret_access_key = {S3Credentials.SecretFor(master, id)}\n", printed.StandardOutput.ReplaceLineEndings("\n"));
        Assert.AreEqual(2, unknown.ExitCode);
        StringAssert.Contains(unknown.StandardError, "poolai: invalid id: no API key has id '0123456789ab'");
    }

    [GeneratedRegex(@"\[key ([0-9a-f]{12}),")]
    private static partial Regex KeyId();
}
