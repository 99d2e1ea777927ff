using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace PoolAI.Client.Cli;

/// <summary>
/// Parsers of the tool's option and argument values whose errors say in words what is expected, with the allowed values,
/// never a .NET type name: <c>invalid --period: must be one of day, week, month, all; was 'year'</c>,
/// <c>invalid JOB: must be a job id (a GUID such as 3f2b9c4e-8d1a-4b7e-9f60-2c5d1e8a7b34); was 'abc'</c>. A value they
/// accept may still break a command's own rule (a priority of 11), which the command then reports.
/// </summary>
internal static class CliValues
{
    /// <summary>A job id as an example in messages.</summary>
    public const string ExampleJobId = "3f2b9c4e-8d1a-4b7e-9f60-2c5d1e8a7b34";

    /// <summary>Parses a job id.</summary>
    public static Argument<Guid> AsJobId(this Argument<Guid> argument)
    {
        argument.CustomParser = result => Guid.TryParse(Token(result), out var id)
            ? id
            : Fail<Guid>(result, $"must be a job id (a GUID such as {ExampleJobId})");
        return argument;
    }

    /// <summary>Parses a whole number (integer <typeparamref name="T"/>) or a finite number (floating-point <typeparamref name="T"/>) that <typeparamref name="T"/> holds; <paramref name="range"/> says the command's rule in the message (e.g. <c>between 1 and 4096</c>).</summary>
    public static Option<T> AsNumber<T>(this Option<T> option, string? range = null) where T : struct, INumber<T>
    {
        option.CustomParser = result => Number<T>(result, range);
        return option;
    }

    /// <inheritdoc cref="AsNumber{T}(Option{T}, string?)"/>
    public static Option<T?> AsNumber<T>(this Option<T?> option, string? range = null) where T : struct, INumber<T>
    {
        option.CustomParser = result => Number<T>(result, range);
        return option;
    }

    /// <inheritdoc cref="AsNumber{T}(Option{T}, string?)"/>
    public static Argument<T> AsNumber<T>(this Argument<T> argument, string? range = null) where T : struct, INumber<T>
    {
        argument.CustomParser = result => Number<T>(result, range);
        return argument;
    }

    /// <summary>Parses one of <typeparamref name="T"/>'s names, in any case (not its numbers); the message lists them in lower case.</summary>
    public static Option<T> AsChoice<T>(this Option<T> option) where T : struct, Enum
    {
        option.CustomParser = result =>
        {
            var token = Token(result);
            return Enum.GetNames<T>().FirstOrDefault(name => string.Equals(name, token, StringComparison.OrdinalIgnoreCase)) is { } name
                ? Enum.Parse<T>(name)
                : Fail<T>(result, $"must be one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
        };
        return option;
    }

    private static T Number<T>(ArgumentResult result, string? range) where T : struct, INumber<T>
    {
        var whole = typeof(T) != typeof(float) && typeof(T) != typeof(double) && typeof(T) != typeof(decimal);
        var token = Token(result);
        // Floating-point parsing turns a number too large for the type into infinity: that is not a value either.
        if (T.TryParse(token, whole ? NumberStyles.Integer : NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value))
            return value;
        if (range is not null)
            return Fail<T>(result, $"must be {(whole ? "an integer" : "a number")} {range}");
        // No rule of the command's own: a number too large is refused with the largest the option takes.
        if (whole && BigInteger.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            return Fail<T>(result, $"must be an integer between {Bound<T>(min: true)} and {Bound<T>(min: false)}");
        if (!whole && double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            return Fail<T>(result, "must be a finite number");
        return Fail<T>(result, whole ? "must be an integer" : "must be a number");
    }

    private static string Bound<T>(bool min) where T : struct, INumber<T> =>
        T.CreateSaturating(min ? double.MinValue : double.MaxValue).ToString(null, CultureInfo.InvariantCulture);

    private static string Token(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : "";

    private static T Fail<T>(ArgumentResult result, string rule)
    {
        var name = result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name.ToUpperInvariant();
        result.AddError($"invalid {name}: {rule}; was '{Token(result)}'");
        return default!;
    }
}
