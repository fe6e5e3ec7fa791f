using System.Text.Json;
using Gateway.Mcp;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.Telemetry;

/// <summary>
/// One structured event per MCP request, in the log category <see cref="Category"/> so that it can be routed to its
/// own sink (with the JSON console formatter each event is one JSON object). Never tokens, never results, tool
/// arguments only where a server opts in; the session id only hashed. Each event is a link of this instance's
/// <see cref="AuditChain"/>.
/// </summary>
internal sealed partial class McpAuditLog(ILoggerFactory loggers)
{
    public const string Category = "Gateway.Audit";

    private const int MaxArgumentsLength = 4096;

    private readonly ILogger _logger = loggers.CreateLogger(Category);
    private readonly AuditChain _chain = new();

    public bool Enabled => _logger.IsEnabled(LogLevel.Information);

    public void Write(in McpAuditEvent e)
    {
        if (!Enabled)
        {
            return;
        }

        // One order for the links and the log: the logger queues events as they are written, so the chain in the
        // file is the chain as it was made.
        lock (_chain)
        {
            var (sequence, hash) = _chain.Next(e);
            if (e.Via is { } via)
            {
                LogMemberRequest(_logger, e.Server, e.HttpMethod, e.McpMethod, e.Target, e.Status, e.ErrorCode, e.Rule, e.DurationMs, e.Issuer, e.Subject, e.Client, e.Session,
                    e.RequestBytes, e.ResponseBytes, e.Arguments, via, _chain.Instance, sequence, hash);
            }
            else
            {
                LogRequest(_logger, e.Server, e.HttpMethod, e.McpMethod, e.Target, e.Status, e.ErrorCode, e.Rule, e.DurationMs, e.Issuer, e.Subject, e.Client, e.Session,
                    e.RequestBytes, e.ResponseBytes, e.Arguments, _chain.Instance, sequence, hash);
            }
        }
    }

    /// <summary>The <c>params.arguments</c> of a <c>tools/call</c> body, as JSON cut to <see cref="MaxArgumentsLength"/> characters.</summary>
    public static string? ArgumentsOf(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("params", out var parameters) || !parameters.TryGetProperty("arguments", out var arguments))
            {
                return null;
            }

            // Cut where EchoedText cuts: never between the halves of a surrogate pair, which no JSON writer takes.
            return EchoedText.Of(arguments.GetRawText(), MaxArgumentsLength);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A session id as the audit log shows it: enough to correlate events, useless to resume the session.</summary>
    public static string? HashSession(string? sessionId)
    {
        if (string.IsNullOrEmpty(sessionId))
        {
            return null;
        }

        return Sha256Text.Hex(sessionId, bytes: 12);
    }

    /// <summary>Records a change of a tool's definition, or an admin's decision about one, in the same chain as the requests.</summary>
    public void Write(in ToolChangeAuditEvent e)
    {
        if (!Enabled)
        {
            return;
        }

        lock (_chain)
        {
            var (sequence, hash) = _chain.Next(e);
            LogToolChange(_logger, e.Server, e.Tool, e.Change, e.Action, e.OldPin, e.NewPin, e.OldDescription, e.NewDescription, e.ChangedPaths, e.HiddenCharacters, e.By,
                _chain.Instance, sequence, hash);
        }
    }

    [LoggerMessage(EventId = AuditRecord.Request, Level = LogLevel.Information, Message =
        "mcp {Server} {HttpMethod} {McpMethod} {Target} -> {Status} {ErrorCode} {Rule} in {DurationMs} ms; caller {Issuer} {Subject} {Client}; session {Session}; bytes {RequestBytes}/{ResponseBytes}; arguments {Arguments}; chain {Instance} #{Sequence} {Hash}")]
    private static partial void LogRequest(
        ILogger logger, string server, string httpMethod, string? mcpMethod, string? target, int status, int? errorCode, string? rule, double durationMs,
        string? issuer, string? subject, string? client, string? session, long requestBytes, long responseBytes, string? arguments,
        string instance, long sequence, string hash);

    [LoggerMessage(EventId = AuditRecord.MemberRequest, Level = LogLevel.Information, Message =
        "mcp {Server} {HttpMethod} {McpMethod} {Target} -> {Status} {ErrorCode} {Rule} in {DurationMs} ms; caller {Issuer} {Subject} {Client}; session {Session}; bytes {RequestBytes}/{ResponseBytes}; arguments {Arguments}; via {Via}; chain {Instance} #{Sequence} {Hash}")]
    private static partial void LogMemberRequest(
        ILogger logger, string server, string httpMethod, string? mcpMethod, string? target, int status, int? errorCode, string? rule, double durationMs,
        string? issuer, string? subject, string? client, string? session, long requestBytes, long responseBytes, string? arguments, string via,
        string instance, long sequence, string hash);

    [LoggerMessage(EventId = AuditRecord.ToolChange, Level = LogLevel.Information, Message =
        "tool {Server}/{Tool} {Change}: {Action}; pin {OldPin} -> {NewPin}; description {OldDescription} -> {NewDescription}; changed {ChangedPaths}; hidden characters {HiddenCharacters}; by {By}; chain {Instance} #{Sequence} {Hash}")]
    private static partial void LogToolChange(
        ILogger logger, string server, string tool, string change, string action, string? oldPin, string? newPin, string? oldDescription, string? newDescription,
        string? changedPaths, string? hiddenCharacters, string? by, string instance, long sequence, string hash);
}

/// <summary>
/// What the audit log records of one MCP request; <c>Rule</c> names the server's list rule that refused it, <c>Via</c>
/// the virtual server whose session sent it to this member (a kind of its own, so that older chains verify unchanged).
/// </summary>
internal readonly record struct McpAuditEvent(
    string Server, string HttpMethod, string? McpMethod, string? Target, int Status, int? ErrorCode, string? Rule, double DurationMs,
    string? Issuer, string? Subject, string? Client, string? Session, long RequestBytes, long ResponseBytes, string? Arguments, string? Via = null) : IAuditRecord
{
    public void WriteValues(Utf8JsonWriter writer)
    {
        writer.WriteStringValue(Server);
        writer.WriteStringValue(HttpMethod);
        writer.WriteStringValue(McpMethod);
        writer.WriteStringValue(Target);
        writer.WriteNumberValue(Status);
        if (ErrorCode is { } code)
        {
            writer.WriteNumberValue(code);
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteStringValue(Rule);
        writer.WriteNumberValue(DurationMs);
        writer.WriteStringValue(Issuer);
        writer.WriteStringValue(Subject);
        writer.WriteStringValue(Client);
        writer.WriteStringValue(Session);
        writer.WriteNumberValue(RequestBytes);
        writer.WriteNumberValue(ResponseBytes);
        writer.WriteStringValue(Arguments);
        if (Via is not null)
        {
            writer.WriteStringValue(Via);
        }
    }
}

/// <summary>
/// What the audit log records of a tool definition's change (<c>Change</c>: changed, added, removed,
/// suspicious_characters, pinned) and what the gateway did (<c>Action</c>: quarantined, alerted, pinned), or of an
/// admin's approval or removal of a pin (<c>By</c>: the admin).
/// </summary>
internal readonly record struct ToolChangeAuditEvent(
    string Server, string Tool, string Change, string Action, string? OldPin, string? NewPin, string? OldDescription, string? NewDescription,
    string? ChangedPaths, string? HiddenCharacters, string? By) : IAuditRecord
{
    public void WriteValues(Utf8JsonWriter writer)
    {
        writer.WriteStringValue(Server);
        writer.WriteStringValue(Tool);
        writer.WriteStringValue(Change);
        writer.WriteStringValue(Action);
        writer.WriteStringValue(OldPin);
        writer.WriteStringValue(NewPin);
        writer.WriteStringValue(OldDescription);
        writer.WriteStringValue(NewDescription);
        writer.WriteStringValue(ChangedPaths);
        writer.WriteStringValue(HiddenCharacters);
        writer.WriteStringValue(By);
    }
}
