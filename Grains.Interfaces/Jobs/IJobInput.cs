using System.Text.Json.Serialization;

namespace PoolAI.Jobs;

/// <summary>
/// What a job of one kind is given: one serializable record per kind (<see cref="GenerationSettings"/> for text and
/// code generation, <see cref="SystemTaskInput"/> for system tasks, and whatever a new kind defines). A marker, so that
/// adding a kind adds a record and changes no existing one; Orleans writes the runtime type with the value (each input
/// record has its own <c>[Alias]</c>), and JSON shows its properties.
/// </summary>
[JsonConverter(typeof(RuntimeTypeJsonConverter<IJobInput>))]
public interface IJobInput;

/// <summary>
/// What a finished job of one kind produced: one record per kind (<see cref="TextOutput"/> for text and code,
/// <see cref="SystemTaskOutput"/> for system tasks, …), inside the kind-independent <see cref="JobResult"/>. Files it
/// produced are artifacts, named by <see cref="ArtifactRef"/>.
/// </summary>
[JsonConverter(typeof(RuntimeTypeJsonConverter<IJobOutput>))]
public interface IJobOutput;

/// <summary>
/// Writes a value declared as <typeparamref name="T"/> (an interface) with the properties of its runtime type, as
/// JSON would for a value declared as <see cref="object"/>. Reading is not supported: the type to read is chosen by the
/// job's kind (the gateway asks the kind registry).
/// </summary>
public sealed class RuntimeTypeJsonConverter<T> : JsonConverter<T>
    where T : class
{
    /// <inheritdoc />
    public override T Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        throw new System.Text.Json.JsonException($"a {typeof(T).Name} is read through its job kind, not on its own");

    /// <inheritdoc />
    public override void Write(System.Text.Json.Utf8JsonWriter writer, T value, System.Text.Json.JsonSerializerOptions options) =>
        System.Text.Json.JsonSerializer.Serialize(writer, value, value.GetType(), options);
}
