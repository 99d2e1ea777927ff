namespace PoolAI.Execution;

/// <summary>
/// A silo that is shutting down gracefully gave an attempt back unfinished (it did not end within the miner's drain
/// timeout). The job goes back to the queue and the attempt does not count towards its maximum attempts.
/// </summary>
[GenerateSerializer, Alias("poolai.WorkHandedBackException")]
public sealed class WorkHandedBackException : Exception
{
    /// <summary>Creates the error for work handed back by <paramref name="silo"/>.</summary>
    public WorkHandedBackException(string silo)
        : base($"handed back: silo {silo} is shutting down")
    {
        Silo = silo;
    }

    /// <summary>The silo that handed the work back.</summary>
    [Id(0)]
    public string Silo { get; }
}
