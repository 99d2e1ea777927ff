using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using PoolAI.Jobs;

namespace PoolAI.Gateway.Binding;

/// <summary>
/// OpenAPI schemas of the job types that JSON converters write in their own form, which the generator cannot see:
/// a <see cref="JobKind"/> is a string (an open set of names: the built-in kinds and any a pool adds), and a task's
/// <c>parameters</c> (<see cref="ParameterValues"/>) an object of strings, numbers or booleans.
/// </summary>
public static class JobSchemas
{
    /// <summary>Adds the schema transformer.</summary>
    public static OpenApiOptions AddJobSchemas(this OpenApiOptions options) =>
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonTypeInfo.Type == typeof(JobKind))
            {
                schema.Type = JsonSchemaType.String;
                schema.Description = $"A job kind's name: {string.Join(", ", JobKind.BuiltIn.Select(k => k.Name))}, or a kind a pool adds";
                schema.Examples = [System.Text.Json.Nodes.JsonValue.Create(JobKind.TextGeneration.Name), System.Text.Json.Nodes.JsonValue.Create(JobKind.System.Name)];
            }
            else if (context.JsonPropertyInfo?.CustomConverter is ParameterValues)
            {
                schema.Type = JsonSchemaType.Object | JsonSchemaType.Null;
                schema.AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Number | JsonSchemaType.Boolean };
            }

            return Task.CompletedTask;
        });
}
