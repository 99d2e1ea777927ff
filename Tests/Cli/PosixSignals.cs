using System.Runtime.InteropServices;

namespace PoolAI.Tests.Cli;

/// <summary>Sends POSIX signals to child processes without starting a <c>kill</c> process (which can take a second on a loaded machine).</summary>
internal static partial class PosixSignals
{
    private const int SigInt = 2;

    /// <summary>Sends SIGINT to <paramref name="pid"/>, as Ctrl+C does; 0 on success, else -1 (see errno).</summary>
    public static int Interrupt(int pid) => Kill(pid, SigInt);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
