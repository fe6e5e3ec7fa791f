using Gateway.Mcp;
using Gateway.Transforms.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.Pinning;

/// <summary>
/// Tells operators what pinning found and decided: an audit event for each change (in the audit chain), and for
/// each definition that no longer matches a metric and one warning line.
/// </summary>
internal sealed partial class ToolPinReporter(McpAuditLog audit, McpMetrics metrics, ILogger<ToolPins> logger)
{
    // Descriptions are a server's text: an audit line carries enough of them to review, not any length.
    private const int MaxDescriptionLength = 4096;

    /// <summary>What a list made of the pins: pinned on first use, or changed (held back in <c>enforce</c>, passed in <c>alert</c>).</summary>
    public void Changes(string server, ToolPinningMode mode, IReadOnlyList<ToolChange> changes)
    {
        var trusted = 0;
        foreach (var change in changes)
        {
            var kind = change.Kind.NameOf();
            var action = change.Kind switch
            {
                ToolChangeKind.Pinned => "pinned",
                ToolChangeKind.Removed => "noted",
                _ => mode == ToolPinningMode.Enforce ? "quarantined" : "alerted",
            };
            audit.Write(new ToolChangeAuditEvent(server, change.Tool, kind, action, change.OldPin, change.NewPin, Cut(change.OldDescription), Cut(change.NewDescription),
                change.ChangedPaths.Count == 0 ? null : string.Join(", ", change.ChangedPaths),
                change.HiddenCharacters.Count == 0 ? null : string.Join(", ", change.HiddenCharacters), null));
            if (change.Kind == ToolChangeKind.Pinned)
            {
                trusted++;
                continue;
            }

            metrics.RecordToolDefinitionChange(server, change.Tool, kind);
            LogChange(logger, server, change.Tool, kind, action,
                change.HiddenCharacters.Count > 0 ? string.Join(", ", change.HiddenCharacters) : change.ChangedPaths.Count > 0 ? string.Join(", ", change.ChangedPaths) : "-");
        }

        if (trusted > 0)
        {
            LogTrusted(logger, server, trusted);
        }
    }

    /// <summary>An admin's approval or removal of a pin.</summary>
    public void Decision(string server, string tool, ToolChangeKind kind, ToolPin before, ToolPin? after, string? by)
    {
        var change = kind.NameOf();
        audit.Write(new ToolChangeAuditEvent(server, tool, change, change, before.Pin, after?.Pin,
            Cut(ToolDefinition.DescriptionOf(ToolDefinition.Parse(before.Definition))), Cut(ToolDefinition.DescriptionOf(ToolDefinition.Parse(after?.Definition))), null, null, by));
        LogDecision(logger, server, tool, change, by);
    }

    private static string? Cut(string? description) => description is null ? null : EchoedText.Of(description, MaxDescriptionLength);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool {Server}/{Tool}: definition {Change} ({Detail}); {Action}. GET /api/v1/services/<server>/tools shows it, POST .../tools/<tool>/approve pins it.")]
    private static partial void LogChange(ILogger logger, string server, string tool, string change, string action, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool pins: {Count} tools of {Server} pinned on first use.")]
    private static partial void LogTrusted(ILogger logger, string server, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool {Server}/{Tool}: pin {Change} by {By}.")]
    private static partial void LogDecision(ILogger logger, string server, string tool, string change, string? by);
}
