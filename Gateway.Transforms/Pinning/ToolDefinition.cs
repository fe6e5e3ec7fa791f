using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
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
    public static ToolDefinition? Of(JsonElement tool)
    {
        if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
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
                if (tool.TryGetProperty(member, out var value) && value.ValueKind != JsonValueKind.Null)
                {
                    writer.WritePropertyName(member);
                    Write(writer, value, new Path(null, member, -1), hidden);
                }
            }

            writer.WriteEndObject();
        }

        return new ToolDefinition(name.GetString()!, Encoding.UTF8.GetString(buffer.WrittenSpan), Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan)), hidden);
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

    private static void Write(Utf8JsonWriter writer, JsonElement element, Path path, List<string> hidden)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    var at = new Path(path, property.Name, -1);
                    FindHidden(property.Name, at, hidden);
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value, at, hidden);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item, new Path(path, null, index++), hidden);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                var text = element.GetString()!;
                FindHidden(text, path, hidden);
                writer.WriteStringValue(text);
                break;
            default:
                // Numbers as written, true, false and null.
                writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(element), skipInputValidation: true);
                break;
        }
    }

    private static void FindHidden(string text, Path path, List<string> hidden)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            if (hidden.Count < MaxFindings && IsHidden(rune.Value))
            {
                hidden.Add(string.Create(CultureInfo.InvariantCulture, $"U+{rune.Value:X4} in {path}"));
            }
        }
    }

    /// <summary>Where a value is in the definition (<c>inputSchema.properties.path</c>), spelled out only when a finding names it.</summary>
    private sealed record Path(Path? Parent, string? Member, int Index)
    {
        public override string ToString() =>
            (Parent, Member) switch
            {
                (null, _) => Member!,
                (_, null) => string.Create(CultureInfo.InvariantCulture, $"{Parent}[{Index}]"),
                _ => $"{Parent}.{Member}",
            };
    }

    /// <summary>
    /// Characters that show as nothing, or reorder what is shown, so that a person reviewing a definition does not
    /// read what a model reads: format characters (zero-width, bidirectional controls, tags), controls other than
    /// tab and line ends, private-use and unassigned code points, variation selectors, and the blanks that are
    /// letters or marks.
    /// </summary>
    internal static bool IsHidden(int c) =>
        c is not ('\t' or '\n' or '\r')
        && (CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.Control or UnicodeCategory.PrivateUse
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.OtherNotAssigned
            || c is (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0100 and <= 0xE01EF) or 0x034F or 0x115F or 0x1160 or 0x3164 or 0xFFA0
                or 0x17B4 or 0x17B5 or (>= 0x180B and <= 0x180F) or 0x2800);

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
