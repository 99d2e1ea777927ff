using System.Buffers;
using System.Text;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Cloning;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;

namespace PoolAI.Jobs;

/// <summary>
/// Orleans codec of <see cref="JobKind"/>: its name as a length-prefixed UTF-8 string. A field written when job kinds
/// were an enum holds a variable-length integer instead; it reads as the built-in kind of that number
/// (<see cref="JobKind.FromLegacy"/>), so jobs, queue entries, index entries and ledger entries stored then keep reading.
/// </summary>
[RegisterSerializer]
[RegisterCopier]
public sealed class JobKindCodec : IFieldCodec<JobKind>, IDeepCopier<JobKind>
{
    /// <inheritdoc />
    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, Type? expectedType, JobKind value)
        where TBufferWriter : IBufferWriter<byte>
    {
        ReferenceCodec.MarkValueField(writer.Session);
        writer.WriteFieldHeader(fieldIdDelta, expectedType, typeof(JobKind), WireType.LengthPrefixed);
        var name = value.Name;
        var bytes = Encoding.UTF8.GetByteCount(name);
        writer.WriteVarUInt32((uint)bytes);
        StringCodec.WriteRaw(ref writer, name, bytes);
    }

    /// <inheritdoc />
    public JobKind ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        if (field.WireType == WireType.VarInt)
            return JobKind.FromLegacy(Int32Codec.ReadValue(ref reader, field));
        ReferenceCodec.MarkValueField(reader.Session);
        field.EnsureWireType(WireType.LengthPrefixed);
        var name = StringCodec.ReadRaw(ref reader, reader.ReadVarUInt32());
        return JobKind.TryParse(name, out var kind, out _) ? kind : default;
    }

    /// <inheritdoc />
    public JobKind DeepCopy(JobKind input, CopyContext context) => input;
}
