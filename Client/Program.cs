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
    DbCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
