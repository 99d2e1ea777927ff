namespace PoolAI.Libraries;

/// <summary>What the library manager found on this host and did about it (<c>poolai libs</c> prints it).</summary>
/// <param name="Status"><c>ok</c> when a tensor operation ran; <c>failed</c> otherwise.</param>
/// <param name="TorchSharpVersion">Version of the TorchSharp assembly.</param>
/// <param name="LibTorchVersion">Version libtorch reports, once loaded.</param>
/// <param name="NativeDirectory">Folder the native libraries load from.</param>
/// <param name="LibTorchSharpPath">Path of <c>libLibTorchSharp.so</c>.</param>
/// <param name="LibStdCxxPath">The libstdc++ this process uses.</param>
/// <param name="LibStdCxxLevel">Highest <c>GLIBCXX_</c> version the host's libstdc++ defines.</param>
/// <param name="RequiredLevel">Highest <c>GLIBCXX_</c> version libLibTorchSharp asks for.</param>
/// <param name="Threads">Intra-op threads torch uses.</param>
/// <param name="Repairs">What was changed in this process (empty when nothing needed it or it was done before).</param>
/// <param name="Notes">Other facts: versions weakened earlier, why something failed.</param>
[GenerateSerializer, Immutable, Alias("poolai.LibraryReport")]
public sealed record LibraryReport(
    [property: Id(0)] string Status,
    [property: Id(1)] string TorchSharpVersion,
    [property: Id(2)] string? LibTorchVersion,
    [property: Id(3)] string? NativeDirectory,
    [property: Id(4)] string? LibTorchSharpPath,
    [property: Id(5)] string? LibStdCxxPath,
    [property: Id(6)] string? LibStdCxxLevel,
    [property: Id(7)] string? RequiredLevel,
    [property: Id(8)] int Threads,
    [property: Id(9)] IReadOnlyList<string> Repairs,
    [property: Id(10)] IReadOnlyList<string> Notes)
{
    /// <summary>True when torch loaded and ran a tensor operation.</summary>
    public bool IsOk => Status == "ok";
}
