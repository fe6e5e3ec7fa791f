using System.Runtime.Serialization;

namespace Gateway.Transforms.Pinning;

/// <summary>
/// <c>servers.&lt;name&gt;.toolPinning</c>: how the definitions of the server's tools are held to what was first seen
/// (trust on first use) or to what the operator pinned ahead.
/// </summary>
public sealed record ToolPinningOptions
{
    /// <summary>What happens to a tool whose definition changed, that appeared after the first list, or that hides characters.</summary>
    public ToolPinningMode Mode { get; init; } = ToolPinningMode.Enforce;

    /// <summary>Pins given ahead, tool name to the SHA-256 of its canonical definition; they take precedence over learned ones.</summary>
    public IReadOnlyDictionary<string, string> Pins { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>What pinning does with a definition that does not match.</summary>
public enum ToolPinningMode
{
    /// <summary>Quarantined: hidden from <c>tools/list</c>, refused on <c>tools/call</c>, until an admin approves it.</summary>
    [EnumMember(Value = "enforce")]
    Enforce,

    /// <summary>Passed through, and reported (metric, audit event, warning) as in <see cref="Enforce"/>.</summary>
    [EnumMember(Value = "alert")]
    Alert,

    /// <summary>Definitions are not looked at.</summary>
    [EnumMember(Value = "off")]
    Off,
}

/// <summary>
/// <c>gateway.toolPins</c>: where the pins live, shared by replicas and kept over restarts. Read at start-up.
/// </summary>
public sealed record ToolPinStoreOptions
{
    /// <summary>A Redis connection string; unset, the first Redis the gateway already uses (key ring, token cache, rate limits).</summary>
    public string? Redis { get; init; }

    /// <summary>The prefix of the Redis keys, one key per server.</summary>
    public string RedisKey { get; init; } = "mcp-gateway:tool-pins:v1";

    /// <summary>The file used without Redis; unset, <c>tool-pins.json</c> in the key ring's directory.</summary>
    public string? File { get; init; }
}
