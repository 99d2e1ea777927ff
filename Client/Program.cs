using System.CommandLine;
using PoolAI.Client.Cli;

var root = new RootCommand("poolai — submit generative jobs to a PoolAI pool, train and evaluate models, inspect native libraries")
{
    GenerateCommand.Create(),
    TrainCommand.Create(),
    EvalCommand.Create(),
    LibsCommand.Create(),
    JobCommands.Status(),
    JobCommands.Cancel(),
    JobCommands.Priority(),
    ArtifactCommands.Artifact(),
    ArtifactCommands.System(),
    VolumeCommands.Volume(),
    SyncCommand.Create(),
    RewardCommands.Rewards(),
    RewardCommands.Leaderboard(),
    KeysCommand.Create(),
    DbCommand.Create(),
    SiloCommand.Create(),
    CaCommand.Create(),
};
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // A typo is bad input like any other: one line per error on stderr, exit 2, no help dump on stdout.
    foreach (var error in parsed.Errors)
        Console.Error.WriteLine($"poolai: {error.Message}");
    Console.Error.WriteLine("poolai: see 'poolai --help'");
    return 2;
}

CliConsole.UseOutputWidth();
// On Ctrl+C or SIGTERM the command cancels its job and closes its pool; give that time before the process exits.
// A silo stops as a server does: its host handles the signal, drains and hands back its work (which takes as long as
// PoolAI:Miner:DrainTimeout says), so the tool's own termination handling stays out of its way.
var runsSilo = parsed.CommandResult.Command.Name == "silo";
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = runsSilo ? null : TimeSpan.FromSeconds(20) });
