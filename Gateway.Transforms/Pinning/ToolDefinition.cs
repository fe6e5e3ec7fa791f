using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Transforms.Pinning;

/// <summary>
/// A tool's definition in canonical form, the pin being SHA-256 over its UTF-8 bytes in lower-case hex. The form:
/// the members <c>name</c>, <c>title</c>, <c>description</c>, <c>inputSchema</c>, <c>outputSchema</c> and
/// <c>annotations</c> that are present and not null (others, such as <c>_meta</c> and <c>icons</c>, are left out);
/// at every depth an object's members sorted by name in ordinal order; no whitespace; numbers as the server wrote
/// them; strings escaped only where JSON requires it.
/// </summary>
internal sealed class ToolDefinition
{
    private static readonly string[] Members = ["annotations", "description", "inputSchema", "name", "outputSchema", "title"];
    private static readonly JsonWriterOptions Canonical = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private const int MaxFindings = 10;

    private ToolDefinition(string name, string json, string pin, IReadOnlyList<string> hiddenCharacters) =>
        (Name, Json, Pin, HiddenCharacters) = (name, json, pin, hiddenCharacters);

    public string Name { get; }

    /// <summary>The canonical JSON.</summary>
    public string Json { get; }

    /// <summary>SHA-256 of <see cref="Json"/>, lower-case hex.</summary>
    public string Pin { get; }

    /// <summary>Zero-width, bidirectional-control and tag characters, each with where it is (<c>U+200B in description</c>).</summary>
    public IReadOnlyList<string> HiddenCharacters { get; }

    /// <summary>The definition of a <c>tools/list</c> item; null when it has no string name.</summary>
    public static ToolDefinition? Of(JsonNode? tool)
    {
        if (tool is not JsonObject item || item["name"] is not JsonValue nameValue || nameValue.GetValueKind() != JsonValueKind.String)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        var hidden = new List<string>();
        using (var writer = new Utf8JsonWriter(buffer, Canonical))
        {
            writer.WriteStartObject();
            foreach (var member in Members)
            {
                if (item[member] is { } value)
                {
                    writer.WritePropertyName(member);
                    Write(writer, value, member, hidden);
                }
            }

            writer.WriteEndObject();
        }

        return new ToolDefinition(nameValue.GetValue<string>(), Encoding.UTF8.GetString(buffer.WrittenSpan), Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan)), hidden);
    }

    /// <summary>A canonical definition read back (from the store), to compare with.</summary>
    public static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);

    /// <summary>Where <paramref name="now"/> differs from <paramref name="before"/>: member paths (<c>inputSchema.properties.path.type</c>), at most a few dozen.</summary>
    public static IReadOnlyList<string> ChangedPaths(JsonNode? before, JsonNode? now)
    {
        var paths = new List<string>();
        Compare(before, now, "", paths);
        return paths;
    }

    /// <summary>The <c>description</c> of a canonical definition.</summary>
    public static string? DescriptionOf(JsonNode? definition) =>
        definition?["description"] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static void Write(Utf8JsonWriter writer, JsonNode? node, string path, List<string> hidden)
    {
        switch (node)
        {
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    var at = $"{path}.{key}";
                    FindHidden(key, at, hidden);
                    writer.WritePropertyName(key);
                    Write(writer, value, at, hidden);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                for (var i = 0; i < array.Count; i++)
                {
                    Write(writer, array[i], string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"), hidden);
                }

                writer.WriteEndArray();
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var text = value.GetValue<string>();
                FindHidden(text, path, hidden);
                writer.WriteStringValue(text);
                break;
            case null:
                writer.WriteNullValue();
                break;
            default:
                // Numbers as written, true and false.
                node.WriteTo(writer);
                break;
        }
    }

    private static void FindHidden(string text, string path, List<string> hidden)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            if (hidden.Count < MaxFindings && IsHidden(rune.Value))
            {
                hidden.Add(string.Create(CultureInfo.InvariantCulture, $"U+{rune.Value:X4} in {path}"));
            }
        }
    }

    /// <summary>Characters that show as nothing, or reorder what is shown, so that a person reviewing a definition does not read what a model reads.</summary>
    internal static bool IsHidden(int c) => c is
        0x00AD or 0x061C or 0x180E or (>= 0x200B and <= 0x200F) or (>= 0x202A and <= 0x202E) or (>= 0x2060 and <= 0x2064)
        or (>= 0x2066 and <= 0x2069) or 0xFEFF or (>= 0xE0000 and <= 0xE007F);

    private static void Compare(JsonNode? before, JsonNode? now, string path, List<string> paths)
    {
        const int MaxPaths = 32;
        if (paths.Count >= MaxPaths)
        {
            return;
        }

        if (before is JsonObject a && now is JsonObject b)
        {
            foreach (var key in a.Select(p => p.Key).Union(b.Select(p => p.Key)).Order(StringComparer.Ordinal))
            {
                var at = path.Length == 0 ? key : $"{path}.{key}";
                if (!a.ContainsKey(key) || !b.ContainsKey(key))
                {
                    paths.Add(at);
                }
                else
                {
                    Compare(a[key], b[key], at, paths);
                }
            }
        }
        else if (before is JsonArray x && now is JsonArray y && x.Count == y.Count)
        {
            for (var i = 0; i < x.Count; i++)
            {
                Compare(x[i], y[i], string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"), paths);
            }
        }
        else if (!JsonNode.DeepEquals(before, now))
        {
            paths.Add(path.Length == 0 ? "(all)" : path);
        }
    }
}
