using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace PoolAI.Silo.Hosting;

/// <summary>A setting is missing or wrong; the process stops at start with this message.</summary>
public sealed partial class PoolConfigurationException(string key, string rule)
    : Exception($"configuration {key}: {rule}")
{
    /// <summary>The configuration key, e.g. <c>PoolAI:Role</c>.</summary>
    public string Key { get; } = key;

    /// <summary>What the value must be.</summary>
    public string Rule { get; } = rule;

    /// <summary>
    /// The configuration error behind <paramref name="exception"/> (or one of its inner exceptions) as one
    /// <c>configuration KEY: rule</c>, or null when it is not one: this exception itself; an options validation
    /// failure (the pool's range messages start with the key, e.g. <c>PoolAI:Jobs:LeaseInterval must be between …</c>);
    /// or the configuration binder's refusal of a value it cannot convert (<c>Failed to convert configuration value
    /// … at 'KEY' to type 'TYPE'</c>), which .NET reports as an <see cref="InvalidOperationException"/>.
    /// </summary>
    public static PoolConfigurationException? From(Exception exception)
    {
        switch (exception)
        {
            case PoolConfigurationException configuration:
                return configuration;
            case OptionsValidationException validation:
                var errors = validation.Failures.Select(failure => ValidationFailure().Match(failure) is { Success: true } m ? m.Groups["error"].Value : failure).ToList();
                var first = errors.FirstOrDefault() ?? validation.Message;
                var space = first.IndexOf(' ', StringComparison.Ordinal);
                return first.StartsWith("PoolAI:", StringComparison.Ordinal) && space > 0
                    ? new PoolConfigurationException(first[..space], string.Join("; ", [first[(space + 1)..], .. errors.Skip(1)]))
                    : new PoolConfigurationException(validation.OptionsType.Name, string.Join("; ", errors));
            case InvalidOperationException when BindingFailure().Match(exception.Message) is { Success: true } binding:
                return new PoolConfigurationException(binding.Groups["key"].Value, $"cannot be read as {FriendlyType(binding.Groups["type"].Value)}");
            default:
                return exception.InnerException is { } inner ? From(inner) : null;
        }
    }

    private static string FriendlyType(string type) => type switch
    {
        "System.TimeSpan" => "a time span (hh:mm:ss, or d.hh:mm:ss)",
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" or "System.Single" => "a number",
        "System.Boolean" => "true or false",
        _ => $"a {type}",
    };

    [GeneratedRegex("with the error: '(?<error>.*)'\\.?$", RegexOptions.Singleline)]
    private static partial Regex ValidationFailure();

    [GeneratedRegex("^Failed to convert configuration value .*at '(?<key>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex BindingFailure();
}
