using System.CommandLine;
using PoolAI.Libraries;
using Spectre.Console;

namespace PoolAI.Client.Cli;

/// <summary><c>poolai libs</c>: what the library manager found about the native ML libraries on this host and what it repaired.</summary>
internal static class LibsCommand
{
    public static Command Create()
    {
        var command = new Command("libs", "Report TorchSharp/libtorch versions, native paths, libstdc++ level, threads and repairs");
        command.SetAction(_ =>
        {
            var report = TorchLibraries.Inspect();
            var table = new Table().AddColumn("what").AddColumn("found").Border(TableBorder.Rounded);
            void Row(string what, string? value) => table.AddRow(Markup.Escape(what), Markup.Escape(value ?? "—"));
            Row("status", report.Status);
            Row("TorchSharp", report.TorchSharpVersion);
            Row("libtorch", report.LibTorchVersion);
            Row("native folder", report.NativeDirectory);
            Row("libLibTorchSharp.so", report.LibTorchSharpPath);
            Row("libstdc++ in use", report.LibStdCxxPath);
            Row("libstdc++ level", report.LibStdCxxLevel);
            Row("level required", report.RequiredLevel);
            Row("torch threads", report.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Row("repaired now", report.Repairs.Count == 0 ? "nothing" : string.Join("; ", report.Repairs));
            Row("notes", report.Notes.Count == 0 ? null : string.Join("; ", report.Notes));
            AnsiConsole.Write(table);
            return report.IsOk ? CliRunner.Ok : CliRunner.JobNotSucceeded;
        });
        return command;
    }
}
