using Gateway.Proxy.Configuration;
using Gateway.StdioBridge.Hosting;

namespace Gateway.Proxy.Forwarding;

/// <summary>Where a server's requests go: its configured destinations, or the in-process bridge for a stdio server.</summary>
internal sealed class UpstreamAddresses(StdioBridgeHost bridge)
{
    public IReadOnlyList<string> Of(string name, McpServerOptions server) =>
        server.Transport == McpTransports.Stdio ? [bridge.EndpointFor(name).ToString()] : [.. server.Destinations.Select(d => d.Url!)];
}
