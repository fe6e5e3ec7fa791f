using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Gateway.Transforms.Telemetry;

/// <summary>
/// The gateway's MCP instruments, named after the OpenTelemetry MCP semantic conventions where they define one
/// (<c>mcp.server.operation.duration</c>, <c>mcp.client.operation.duration</c>, <c>mcp.server.session.duration</c>).
/// Labels are bounded: methods outside MCP's and tool names past the first <see cref="MaxToolNamesPerServer"/> of a
/// server are recorded as <c>_OTHER</c>, and no session or user id is ever a label.
/// </summary>
public sealed class McpMetrics
{
    public const string MeterName = "Gateway.Mcp";

    /// <summary>The label of the configured server name (not in the semantic conventions: a gateway serves many).</summary>
    public const string ServerTag = "mcp.gateway.server";

    public const string MethodTag = "mcp.method.name";

    /// <summary>The virtual server whose session sent a member's request; absent on a client's own requests.</summary>
    public const string VirtualServerTag = "mcp.gateway.virtual_server";

    public const string ToolTag = "gen_ai.tool.name";

    public const string ErrorTypeTag = "error.type";

    public const string HttpMethodTag = "http.request.method";

    private const string StrategyTag = "mcp.gateway.upstream_auth.strategy";

    /// <summary>Distinct tool names a server may add to the metrics; clients can send any name, upstreams define few.</summary>
    public const int MaxToolNamesPerServer = 200;

    private const string Other = "_OTHER";

    private static readonly HashSet<string> McpMethods = new(StringComparer.Ordinal)
    {
        "initialize", "ping", "server/discover", "tools/list", "tools/call", "resources/list", "resources/read",
        "resources/templates/list", "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get",
        "completion/complete", "logging/setLevel", "sampling/createMessage", "elicitation/create", "roots/list",
        "tasks/get", "tasks/list", "tasks/result", "tasks/cancel", "notifications/initialized", "notifications/cancelled",
        "notifications/progress", "notifications/roots/list_changed", "notifications/message",
    };

    // Seconds: MCP calls range from a millisecond ping to minutes-long tool calls and hour-long GET streams.
    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];

    private readonly Histogram<double> _serverDuration;
    private readonly Histogram<double> _clientDuration;
    private readonly Histogram<double> _sessionDuration;
    private readonly Counter<long> _sessionsStarted;
    private readonly UpDownCounter<long> _openStreams;
    private readonly Counter<long> _tokenRequests;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _toolDefinitionChanges;
    private readonly Histogram<double> _tokenAcquisitionDuration;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _toolNames = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, McpServerTotals> _totals = new(StringComparer.Ordinal);

    public McpMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        var buckets = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };
        _serverDuration = meter.CreateHistogram("mcp.server.operation.duration", "s", "MCP requests as clients see them: from arrival to the end of the answer.", advice: buckets);
        _clientDuration = meter.CreateHistogram("mcp.client.operation.duration", "s", "MCP requests toward upstreams: from sending to the end of the upstream's answer.", advice: buckets);
        _sessionDuration = meter.CreateHistogram("mcp.server.session.duration", "s", "Sessions ended by the client (DELETE), from initialize to end.", advice: buckets);
        _sessionsStarted = meter.CreateCounter<long>("mcp.gateway.sessions.started", "{session}", "Sessions created through the gateway.");
        _openStreams = meter.CreateUpDownCounter<long>("mcp.gateway.streams.open", "{stream}", "SSE responses being relayed now.");
        _rateLimited = meter.CreateCounter<long>("mcp.gateway.rate_limit.rejections", "{request}", "Requests refused by a rate limit, by scope: server or tool.");
        _toolDefinitionChanges = meter.CreateCounter<long>("mcp.gateway.tool_definition.changes", "{change}",
            "Tool definitions that no longer match their pin, by kind: changed, added, removed, suspicious_characters.");
        _tokenRequests = meter.CreateCounter<long>("mcp.gateway.upstream_token.requests", "{request}", "Upstream tokens asked of the token cache, by result: hit, issued or failed.");
        _tokenAcquisitionDuration = meter.CreateHistogram("mcp.gateway.upstream_token.acquisition.duration", "s", "Calls to the identity provider for upstream tokens (token exchange, OBO, client credentials).", advice: buckets);
    }

    /// <summary>The label for a JSON-RPC method: MCP's own, or <c>_OTHER</c>.</summary>
    public static string MethodLabel(string method) => McpMethods.Contains(method) ? method : Other;

    /// <summary>The label for a tool name of <paramref name="server"/>: itself while the server has few, then <c>_OTHER</c>.</summary>
    public string ToolLabel(string server, string tool)
    {
        var names = _toolNames.GetOrAdd(server, static _ => new ConcurrentDictionary<string, bool>(StringComparer.Ordinal));
        if (names.ContainsKey(tool))
        {
            return tool;
        }

        return names.Count < MaxToolNamesPerServer && names.TryAdd(tool, true) ? tool : Other;
    }

    /// <summary>Running totals per server since start, for the admin API (the instruments are for Prometheus).</summary>
    public McpServerTotals TotalsOf(string server) => _totals.GetOrAdd(server, static _ => new McpServerTotals());

    public void RecordServerOperation(string server, bool failed, double seconds, in TagList tags)
    {
        _serverDuration.Record(seconds, tags);
        var totals = TotalsOf(server);
        Interlocked.Increment(ref totals.RequestCount);
        if (failed)
        {
            Interlocked.Increment(ref totals.FailedCount);
        }
    }

    public void RecordClientOperation(double seconds, in TagList tags) => _clientDuration.Record(seconds, tags);

    public void RecordSessionEnded(string server, TimeSpan duration)
    {
        _sessionDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(ServerTag, server));
        Interlocked.Increment(ref TotalsOf(server).SessionsEndedCount);
    }

    public void RecordSessionStarted(string server)
    {
        _sessionsStarted.Add(1, new KeyValuePair<string, object?>(ServerTag, server));
        Interlocked.Increment(ref TotalsOf(server).SessionsStartedCount);
    }

    public void StreamOpened(string server)
    {
        _openStreams.Add(1, new KeyValuePair<string, object?>(ServerTag, server));
        Interlocked.Increment(ref TotalsOf(server).OpenStreamCount);
    }

    public void StreamClosed(string server)
    {
        _openStreams.Add(-1, new KeyValuePair<string, object?>(ServerTag, server));
        Interlocked.Decrement(ref TotalsOf(server).OpenStreamCount);
    }

    public void RecordRateLimited(string server, string scope)
    {
        _rateLimited.Add(1, new KeyValuePair<string, object?>(ServerTag, server), new KeyValuePair<string, object?>("mcp.gateway.rate_limit.scope", scope));
        Interlocked.Increment(ref TotalsOf(server).RateLimitedCount);
    }

    /// <summary>A tool whose definition no longer matches its pin (<paramref name="kind"/>: changed, added, removed, suspicious_characters).</summary>
    public void RecordToolDefinitionChange(string server, string tool, string kind) =>
        _toolDefinitionChanges.Add(1, new KeyValuePair<string, object?>(ServerTag, server), new KeyValuePair<string, object?>(ToolTag, ToolLabel(server, tool)),
            new KeyValuePair<string, object?>("mcp.gateway.tool_definition.change", kind));

    /// <summary>One answer of the token cache: <c>hit</c>, <c>issued</c> (the IdP was asked and gave one) or <c>failed</c>.</summary>
    public void RecordTokenRequest(string server, string strategy, string result) =>
        _tokenRequests.Add(1, new KeyValuePair<string, object?>(ServerTag, server), new KeyValuePair<string, object?>(StrategyTag, strategy), new KeyValuePair<string, object?>("mcp.gateway.upstream_token.result", result));

    public void RecordTokenAcquisition(string strategy, double seconds, bool succeeded)
    {
        var tags = new TagList { { StrategyTag, strategy } };
        if (!succeeded)
        {
            tags.Add(ErrorTypeTag, "token_unavailable");
        }

        _tokenAcquisitionDuration.Record(seconds, tags);
    }

    /// <summary>An error code or HTTP status as the <c>error.type</c> label wants it.</summary>
    public static string ErrorTypeOf(int code) => code.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What one server has seen since the gateway started.</summary>
public sealed class McpServerTotals
{
    // Fields, so the metric methods can update them with Interlocked.
    internal long RequestCount;
    internal long FailedCount;
    internal long SessionsStartedCount;
    internal long SessionsEndedCount;
    internal long OpenStreamCount;
    internal long RateLimitedCount;

    public long Requests => Interlocked.Read(ref RequestCount);

    /// <summary>Requests answered with an error status (the gateway's own refusals included).</summary>
    public long Failed => Interlocked.Read(ref FailedCount);

    public long SessionsStarted => Interlocked.Read(ref SessionsStartedCount);

    /// <summary>Sessions the client ended (DELETE); the others end by expiry, unseen.</summary>
    public long SessionsEnded => Interlocked.Read(ref SessionsEndedCount);

    public long OpenStreams => Interlocked.Read(ref OpenStreamCount);

    public long RateLimited => Interlocked.Read(ref RateLimitedCount);
}
