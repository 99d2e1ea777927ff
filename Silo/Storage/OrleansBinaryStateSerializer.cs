using Orleans.Serialization;
using Orleans.Storage;

namespace PoolAI.Silo.Storage;

/// <summary>
/// Grain-state serializer for storage: Orleans' own binary format, version tolerant by the stable
/// <c>[Id(n)]</c> of every state member and the <c>[Alias]</c> of every state type, so renaming a
/// C# type or adding a member never breaks stored rows (unlike the provider's default JSON with
/// .NET type names). Members are never renumbered or reused.
/// </summary>
public sealed class OrleansBinaryStateSerializer(Serializer serializer) : IGrainStorageSerializer
{
    /// <inheritdoc />
    public BinaryData Serialize<T>(T? input) => new(serializer.SerializeToArray(input));

    /// <inheritdoc />
    public T Deserialize<T>(BinaryData input) => serializer.Deserialize<T>(input.ToMemory().Span)!;
}
