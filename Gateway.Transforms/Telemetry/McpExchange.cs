using System.Diagnostics;

namespace Gateway.Transforms.Telemetry;

/// <summary>
/// One request to <c>/mcp/&lt;server&gt;</c> as it is measured and audited: created when it arrives (an HTTP feature),
/// filled in by the steps it passes, read when it ends.
/// </summary>
public sealed class McpExchange(string server)
{
    public string Server { get; } = server;

    public long StartTimestamp { get; } = Stopwatch.GetTimestamp();

    /// <summary>When the request was handed to the upstream; 0 when it never was.</summary>
    public long UpstreamStartTimestamp { get; set; }

    /// <summary>Whether the answer is an SSE stream (counted among the open streams until the request ends).</summary>
    public bool EventStream { get; set; }

    /// <summary>The JSON-RPC error code of the gateway's own answer; 0 when the gateway did not answer itself.</summary>
    public int GatewayErrorCode { get; set; }
}
