using Gateway.StdioBridge.Hosting;
using Gateway.Transforms.Configuration;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Where a server's requests go: its configured destinations, or for a stdio server the in-process bridge, which
/// wants its access key on every request.
/// </summary>
internal sealed class UpstreamAddresses(StdioBridgeHost bridge)
{
    public const string BridgeAccessKeyHeader = StdioBridgeHost.AccessKeyHeader;

    public string? BridgeAccessKey => bridge.AccessKey;

    /// <summary>Whether a destination address is the in-process bridge's.</summary>
    public bool IsBridge(string destination) => destination.StartsWith(bridge.BaseAddress.ToString(), StringComparison.OrdinalIgnoreCase);

    public IReadOnlyList<string> Of(string name, McpServerOptions server) =>
        server.Transport == McpTransport.Stdio ? [bridge.EndpointFor(name).ToString()] : [.. server.Destinations.Select(d => d.Url!)];

    /// <summary>The headers a request of the gateway's own to the server carries (a health probe's).</summary>
    public IReadOnlyDictionary<string, string> HeadersOf(McpServerOptions server) =>
        server.Transport == McpTransport.Stdio && bridge.AccessKey is { } key
            ? new Dictionary<string, string>(server.Headers, StringComparer.OrdinalIgnoreCase) { [BridgeAccessKeyHeader] = key }
            : server.Headers;
}
