namespace PoolAI.Silo.Hosting;

/// <summary>A setting is missing or wrong; the process stops at start with this message.</summary>
public sealed class PoolConfigurationException(string key, string rule)
    : Exception($"configuration {key}: {rule}")
{
    /// <summary>The configuration key, e.g. <c>PoolAI:Role</c>.</summary>
    public string Key { get; } = key;

    /// <summary>What the value must be.</summary>
    public string Rule { get; } = rule;
}
