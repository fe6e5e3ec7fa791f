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
    public (long Sequence, string Hash) Next(in McpAuditEvent e)
    {
        // Counted only once the record is written: a number that never reaches the log would read as a removed event.
        var sequence = _sequence + 1;
        _canonical.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_canonical))
        {
            AuditRecord.Write(writer, sequence, Instance, e);
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

/// <summary>
/// The canonical JSON of an audit event that its hash covers: every field in a fixed order, as the JSON console
/// formatter writes its values, so that the verifier can rebuild it from the log line alone.
/// </summary>
internal static class AuditRecord
{
    /// <summary>The event's fields as the log's <c>State</c> names them, in canonical order.</summary>
    public static readonly string[] Fields =
    [
        "Sequence", "Instance", "Server", "HttpMethod", "McpMethod", "Target", "Status", "ErrorCode", "Rule", "DurationMs",
        "Issuer", "Subject", "Client", "Session", "RequestBytes", "ResponseBytes", "Arguments",
    ];

    public static void Write(Utf8JsonWriter writer, long sequence, string instance, in McpAuditEvent e)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(sequence);
        writer.WriteStringValue(instance);
        writer.WriteStringValue(e.Server);
        writer.WriteStringValue(e.HttpMethod);
        writer.WriteStringValue(e.McpMethod);
        writer.WriteStringValue(e.Target);
        writer.WriteNumberValue(e.Status);
        if (e.ErrorCode is { } code)
        {
            writer.WriteNumberValue(code);
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteStringValue(e.Rule);
        writer.WriteNumberValue(e.DurationMs);
        writer.WriteStringValue(e.Issuer);
        writer.WriteStringValue(e.Subject);
        writer.WriteStringValue(e.Client);
        writer.WriteStringValue(e.Session);
        writer.WriteNumberValue(e.RequestBytes);
        writer.WriteNumberValue(e.ResponseBytes);
        writer.WriteStringValue(e.Arguments);
        writer.WriteEndArray();
    }

    /// <summary>The same canonical JSON, from a log line's <c>State</c> object.</summary>
    public static void Write(Utf8JsonWriter writer, JsonElement state)
    {
        writer.WriteStartArray();
        foreach (var field in Fields)
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
