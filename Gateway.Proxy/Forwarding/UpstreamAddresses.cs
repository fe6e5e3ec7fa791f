using Gateway.Proxy.Configuration;
using Gateway.StdioBridge.Hosting;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// Where a server's requests go, and with which extra headers: its configured destinations, or the in-process bridge
/// (with the bridge's access key) for a stdio server.
/// </summary>
internal sealed class UpstreamAddresses(StdioBridgeHost bridge)
{
    public IReadOnlyList<string> Of(string name, McpServerOptions server) =>
        server.Transport == McpTransports.Stdio ? [bridge.EndpointFor(name).ToString()] : [.. server.Destinations.Select(d => d.Url!)];

    public IReadOnlyDictionary<string, string> HeadersOf(McpServerOptions server) =>
        server.Transport == McpTransports.Stdio && bridge.AccessKey is { } key
            ? new Dictionary<string, string>(server.Headers, StringComparer.OrdinalIgnoreCase) { [StdioBridgeHost.AccessKeyHeader] = key }
            : server.Headers;
}
