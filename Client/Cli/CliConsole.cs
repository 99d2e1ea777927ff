using Spectre.Console;

namespace PoolAI.Client.Cli;

/// <summary>
/// The width the tool's tables (Spectre.Console) are laid out in: the terminal's when standard output is one, and no
/// limit when it is redirected (a file, a pipe, CI), so that a table is as wide as its content instead of being cut and
/// wrapped at Spectre's default of 80 columns.
/// </summary>
internal static class CliConsole
{
    /// <summary>Columns of redirected output: wider than any table the tool prints, so none is cut.</summary>
    public const int RedirectedWidth = short.MaxValue;

    /// <summary>Sets the width; call once, before anything is written.</summary>
    public static void UseOutputWidth()
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = RedirectedWidth;
            return;
        }

        // Spectre.Console reads the terminal's width too; this also covers a terminal that reports no buffer width.
        try
        {
            if (Console.WindowWidth > 0)
                AnsiConsole.Profile.Width = Console.WindowWidth;
        }
        catch (IOException)
        {
            // No size to read: Spectre.Console's default stands.
        }
    }
}
