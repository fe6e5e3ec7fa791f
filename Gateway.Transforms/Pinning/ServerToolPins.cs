using System.Text.Json.Serialization;

namespace Gateway.Transforms.Pinning;

/// <summary>The pins of one server's tools, as stored: immutable, replaced whole on every change.</summary>
internal sealed record ServerToolPins
{
    public static readonly ServerToolPins Empty = new();

    /// <summary>Whether a whole tool list was seen: after it, a tool not seen before is new, not trusted on first use.</summary>
    public bool Baseline { get; init; }

    public IReadOnlyDictionary<string, ToolPin> Tools { get; init; } = new Dictionary<string, ToolPin>(StringComparer.Ordinal);

    /// <summary>These pins with <paramref name="tool"/>'s replaced, or removed when <paramref name="pin"/> is null.</summary>
    public ServerToolPins With(string tool, ToolPin? pin)
    {
        var tools = new Dictionary<string, ToolPin>(Tools, StringComparer.Ordinal);
        if (pin is null)
        {
            tools.Remove(tool);
        }
        else
        {
            tools[tool] = pin;
        }

        return this with { Tools = tools };
    }
}

/// <summary>One tool's pin, and the definition that is waiting for approval, if any.</summary>
internal sealed record ToolPin
{
    /// <summary>SHA-256 of the approved canonical definition; null for a tool never approved (new, or hiding characters when first seen).</summary>
    public string? Pin { get; init; }

    /// <summary>The approved canonical definition, so that a change can be shown as a diff.</summary>
    public string? Definition { get; init; }

    public DateTimeOffset FirstSeen { get; init; }

    public DateTimeOffset? PinnedAt { get; init; }

    /// <summary>A definition seen that is not the pinned one: quarantined until approved (mode <c>enforce</c>).</summary>
    public PendingDefinition? Pending { get; init; }

    /// <summary>A whole list was seen without the tool.</summary>
    public bool Removed { get; init; }
}

/// <summary>A definition that does not match its pin, as it was first seen.</summary>
internal sealed record PendingDefinition(
    string Pin, string Definition, ToolChangeKind Kind, DateTimeOffset SeenAt, IReadOnlyList<string> ChangedPaths, IReadOnlyList<string> HiddenCharacters);

/// <summary>What changed about a tool, as metrics, audit events and the admin API name it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ToolChangeKind>))]
internal enum ToolChangeKind
{
    [JsonStringEnumMemberName("changed")]
    Changed,

    [JsonStringEnumMemberName("added")]
    Added,

    [JsonStringEnumMemberName("removed")]
    Removed,

    [JsonStringEnumMemberName("suspicious_characters")]
    SuspiciousCharacters,

    [JsonStringEnumMemberName("pinned")]
    Pinned,

    [JsonStringEnumMemberName("approved")]
    Approved,

    [JsonStringEnumMemberName("forgotten")]
    Forgotten,
}

internal static class ToolChangeKinds
{
    /// <summary>The kind as metrics, audit events and the admin API write it.</summary>
    public static string NameOf(this ToolChangeKind kind) => kind switch
    {
        ToolChangeKind.Changed => "changed",
        ToolChangeKind.Added => "added",
        ToolChangeKind.Removed => "removed",
        ToolChangeKind.SuspiciousCharacters => "suspicious_characters",
        ToolChangeKind.Pinned => "pinned",
        ToolChangeKind.Approved => "approved",
        _ => "forgotten",
    };
}
