using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Gateway.Transforms.Telemetry;

/// <summary>
/// Links each audit event of this gateway instance to the one before it: a sequence number, and SHA-256 over the
/// previous event's hash and the event's canonical JSON (<see cref="AuditRecord"/>). An event changed, removed or
/// moved in the log breaks the chain where it happened, which <see cref="AuditChainVerifier"/> finds.
/// </summary>
/// <remarks>
/// Not a signature: whoever can rewrite the log can rewrite every hash after an edit too. It proves the log is
/// the one the gateway wrote as long as a later part of it (or a hash of it) was kept elsewhere.
/// </remarks>
internal sealed class AuditChain
{
    private readonly byte[] _previous = new byte[SHA256.HashSizeInBytes];
    private readonly ArrayBufferWriter<byte> _canonical = new(512);
    private long _sequence;

    /// <summary>This instance's chain: events of other instances (or of this gateway before a restart) have their own.</summary>
    public string Instance { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>The next link: its sequence number and hash. Not thread-safe: the caller keeps links and log writes in one order.</summary>
    public (long Sequence, string Hash) Next<T>(in T e)
        where T : struct, IAuditRecord
    {
        // Counted only once the record is written: a number that never reaches the log would read as a removed event.
        var sequence = _sequence + 1;
        _canonical.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_canonical))
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(sequence);
            writer.WriteStringValue(Instance);
            e.WriteValues(writer);
            writer.WriteEndArray();
        }

        _sequence = sequence;
        return (sequence, Link(_previous, _canonical.WrittenSpan, _previous));
    }

    /// <summary>SHA-256 over <paramref name="previous"/> and <paramref name="canonical"/>, into <paramref name="hash"/>, in hex.</summary>
    public static string Link(ReadOnlySpan<byte> previous, ReadOnlySpan<byte> canonical, Span<byte> hash)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(previous);
        sha.AppendData(canonical);
        sha.GetHashAndReset(hash);
        return Convert.ToHexStringLower(hash);
    }
}

/// <summary>An audit event whose hash covers its values: written as the JSON console formatter writes them, so that the verifier can rebuild them from the log line alone.</summary>
internal interface IAuditRecord
{
    /// <summary>The event's values, in the order of its kind's <see cref="AuditRecord.FieldsOf"/> after Sequence and Instance.</summary>
    void WriteValues(Utf8JsonWriter writer);
}

/// <summary>
/// The canonical JSON of an audit event that its hash covers: a JSON array of every field of its kind (its log
/// event id) in a fixed order, as the JSON console formatter writes its values.
/// </summary>
internal static class AuditRecord
{
    /// <summary>The log event id of an MCP request's event.</summary>
    public const int Request = 1;

    /// <summary>The log event id of a tool definition's change.</summary>
    public const int ToolChange = 2;

    /// <summary>The log event id of a request a virtual server sent one of its members.</summary>
    public const int MemberRequest = 3;

    private static readonly string[] RequestFields =
    [
        "Sequence", "Instance", "Server", "HttpMethod", "McpMethod", "Target", "Status", "ErrorCode", "Rule", "DurationMs",
        "Issuer", "Subject", "Client", "Session", "RequestBytes", "ResponseBytes", "Arguments",
    ];

    private static readonly string[] MemberRequestFields = [.. RequestFields, "Via"];

    private static readonly string[] ToolChangeFields =
    [
        "Sequence", "Instance", "Server", "Tool", "Change", "Action", "OldPin", "NewPin", "OldDescription", "NewDescription",
        "ChangedPaths", "HiddenCharacters", "By",
    ];

    /// <summary>The fields of an event of <paramref name="eventId"/>, as the log's <c>State</c> names them, in canonical order; null for a kind not known.</summary>
    public static string[]? FieldsOf(int eventId) => eventId switch
    {
        Request => RequestFields,
        MemberRequest => MemberRequestFields,
        ToolChange => ToolChangeFields,
        _ => null,
    };

    /// <summary>The canonical JSON, from a log line's <c>State</c> object.</summary>
    public static void Write(Utf8JsonWriter writer, JsonElement state, string[] fields)
    {
        writer.WriteStartArray();
        foreach (var field in fields)
        {
            if (!state.TryGetProperty(field, out var value))
            {
                writer.WriteNullValue();
                continue;
            }

            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    writer.WriteStringValue(value.GetString());
                    break;
                case JsonValueKind.Number:
                    writer.WriteRawValue(value.GetRawText(), skipInputValidation: true);
                    break;
                default:
                    writer.WriteNullValue();
                    break;
            }
        }

        writer.WriteEndArray();
    }
}
