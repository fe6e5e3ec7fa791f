using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Gateway.Transforms.Telemetry;

/// <summary>
/// Checks an audit log written with the JSON console formatter (one JSON object a line; other lines and categories
/// are skipped): each gateway instance's events must follow each other by sequence number from 1, each with the hash
/// of its canonical record linked to the one before. Reports the first event that was changed, removed or moved.
/// </summary>
internal static class AuditChainVerifier
{
    /// <summary>The verdict: null when every chain is whole, else what is wrong and where.</summary>
    public static AuditVerdict Verify(TextReader log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var chains = new Dictionary<string, (long Sequence, byte[] Hash)>(StringComparer.Ordinal);
        var canonical = new ArrayBufferWriter<byte>(512);
        var events = 0;
        var lineNumber = 0;
        while (log.ReadLine() is { } line)
        {
            lineNumber++;
            if (StateOf(line) is not ({ } state, var eventId))
            {
                continue;
            }

            if (AuditRecord.FieldsOf(eventId) is not { } fields)
            {
                return AuditVerdict.Broken(lineNumber, $"an audit event of a kind this verifier does not know (event id {eventId}): it was changed, or written by a newer gateway");
            }

            if (!state.TryGetProperty("Hash", out var hashElement) || hashElement.ValueKind != JsonValueKind.String
                || !state.TryGetProperty("Instance", out var instanceElement) || instanceElement.ValueKind != JsonValueKind.String || instanceElement.GetString() is not { } instance
                || !state.TryGetProperty("Sequence", out var sequenceElement) || sequenceElement.ValueKind != JsonValueKind.Number || !sequenceElement.TryGetInt64(out var sequence))
            {
                return AuditVerdict.Broken(lineNumber, "an audit event without its chain fields (Instance, Sequence, Hash): it was changed, or written by a gateway without the chain");
            }

            events++;
            var (previousSequence, previousHash) = chains.GetValueOrDefault(instance, (0, new byte[SHA256.HashSizeInBytes]));
            if (sequence != previousSequence + 1)
            {
                var missing = sequence - previousSequence == 2 ? $"#{previousSequence + 1} is" : $"#{previousSequence + 1} to #{sequence - 1} are";
                var what = sequence <= previousSequence
                    ? $"comes after event #{previousSequence}: events were moved"
                    : $"follows event #{previousSequence}: {missing} not here (removed, or moved)";
                return AuditVerdict.Broken(lineNumber, $"event #{sequence} of instance {instance} {what}");
            }

            canonical.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(canonical))
            {
                AuditRecord.Write(writer, state, fields);
            }

            var hash = new byte[SHA256.HashSizeInBytes];
            if (!string.Equals(AuditChain.Link(previousHash, canonical.WrittenSpan, hash), hashElement.GetString(), StringComparison.Ordinal))
            {
                return AuditVerdict.Broken(lineNumber, $"event #{sequence} of instance {instance} was changed: its hash does not match its fields and the event before it");
            }

            chains[instance] = (sequence, hash);
        }

        return events == 0
            ? new AuditVerdict(false, "No audit events found: give the gateway's log as LOG_FORMAT=json writes it, one JSON object a line.")
            : AuditVerdict.Whole(events, chains.Count);
    }

    /// <summary>The <c>State</c> and <c>EventId</c> of an audit log line; null for any other line.</summary>
    private static (JsonElement State, int EventId)? StateOf(string line)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            return root.TryGetProperty("Category", out var category) && category.ValueEquals(McpAuditLog.Category) && root.TryGetProperty("State", out var state)
                ? (state.Clone(), root.TryGetProperty("EventId", out var id) && id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out var eventId) ? eventId : 0)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>What <see cref="AuditChainVerifier"/> found.</summary>
internal sealed record AuditVerdict(bool IsWhole, string Message)
{
    public static AuditVerdict Whole(int events, int chains) =>
        new(true, string.Create(CultureInfo.InvariantCulture, $"Intact: {events} audit events in {chains} chain{(chains == 1 ? "" : "s")}."));

    public static AuditVerdict Broken(int line, string what) =>
        new(false, string.Create(CultureInfo.InvariantCulture, $"Line {line}: {what}."));
}
