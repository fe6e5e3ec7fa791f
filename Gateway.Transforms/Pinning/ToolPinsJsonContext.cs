using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Transforms.Pinning;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServerToolPins))]
[JsonSerializable(typeof(Dictionary<string, ServerToolPins>))]
internal sealed partial class ToolPinsJsonContext : JsonSerializerContext;
