using System.CommandLine;
using PoolAI.Silo.Hosting;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai silo</c>: runs a silo of the pool in this process (the same as the <c>Silo</c> executable).</summary>
public static class SiloCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var role = new Option<string>("--role") { Description = "coordinator, miner or all-in-one (default)" };
        var pool = new Option<string>("--pool") { Description = "An open miner: the pool gateway's URL (https://HOST); the miner reaches the pool only through it" };
        var key = new Option<string>("--key") { Description = "An open miner: its miner key (pai_…), which an admin creates with 'poolai keys create --role miner'" };
        var command = new Command("silo", "Run a silo of the pool: a coordinator, a trusted miner that joins the cluster, or (with --pool and --key) an open miner that reaches the pool only through its gateway. Any other setting may follow as --PoolAI:Section:Key VALUE")
        {
            role, pool, key,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, _) =>
        {
            var args = new List<string>();
            foreach (var (option, name) in new[] { (role, "--role"), (pool, "--pool"), (key, "--key") })
            {
                if (result.GetValue(option) is { } value)
                    args.AddRange([name, value]);
            }

            args.AddRange(result.UnmatchedTokens);
            return await SiloHost.RunAsync([.. args]);
        });
        return command;
    }
}
