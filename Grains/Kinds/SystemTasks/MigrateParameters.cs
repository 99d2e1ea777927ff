using System.Globalization;
using PoolAI.Jobs;

namespace PoolAI.Kinds.SystemTasks;

/// <summary>The parameters of a <see cref="Jobs.SystemTasks.Migrate"/> task.</summary>
/// <param name="Worker">The worker id of the silo to empty, which is also its store's id.</param>
/// <param name="Wait">How long to wait for the silo's running jobs, and for writes granted its store before the drain, to end.</param>
public sealed record MigrateParameters(string Worker, TimeSpan Wait)
{
    /// <summary>The parameter names the task takes.</summary>
    public static readonly IReadOnlyList<string> Names = ["worker", "wait"];

    /// <summary>Default of <c>wait</c>, seconds.</summary>
    public const int DefaultWaitSeconds = 600;

    /// <summary>Largest <c>wait</c>, seconds (a day).</summary>
    public const int MaxWaitSeconds = 86_400;

    /// <summary>Longest worker id, characters.</summary>
    public const int MaxWorkerLength = 128;

    /// <summary>Reads and checks the parameters.</summary>
    /// <exception cref="JobValidationException">Field <c>input.parameters.worker</c> (missing, empty, too long, spaces or control characters) or <c>input.parameters.wait</c> (not whole seconds from 0 to <see cref="MaxWaitSeconds"/>).</exception>
    public static MigrateParameters Parse(SystemTaskInput input)
    {
        var parameters = input.Parameters ?? new Dictionary<string, string>();
        var worker = parameters.GetValueOrDefault("worker");
        if (worker is not { Length: > 0 and <= MaxWorkerLength } || worker.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            throw new JobValidationException("input.parameters.worker", $"is required: the worker id of the silo to empty (also its store's id), 1 to {MaxWorkerLength} characters without spaces; was '{worker}'");
        var wait = DefaultWaitSeconds;
        if (parameters.GetValueOrDefault("wait") is { } text
            && !(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out wait) && wait <= MaxWaitSeconds))
            throw new JobValidationException("input.parameters.wait", $"must be whole seconds from 0 to {MaxWaitSeconds}; was '{text}'");
        return new MigrateParameters(worker, TimeSpan.FromSeconds(wait));
    }
}
