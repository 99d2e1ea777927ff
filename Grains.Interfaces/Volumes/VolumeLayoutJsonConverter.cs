using System.Text.Json;
using System.Text.Json.Serialization;

namespace PoolAI.Volumes;

/// <summary>Writes a <see cref="VolumeLayout"/> as people write it (<c>"rs:4+2"</c>, <c>"mirror:3"</c>) and reads it back with <see cref="VolumeLayout.Parse"/>.</summary>
public sealed class VolumeLayoutJsonConverter : JsonConverter<VolumeLayout>
{
    /// <inheritdoc />
    public override VolumeLayout Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => VolumeLayout.Parse(reader.GetString());

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, VolumeLayout value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
