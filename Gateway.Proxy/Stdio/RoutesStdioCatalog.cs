using Gateway.StdioBridge.Configuration;
using Gateway.Transforms.Configuration;

namespace Gateway.Proxy.Stdio;

/// <summary>The stdio servers of the routes in force, for the in-process bridge.</summary>
internal sealed class RoutesStdioCatalog(RoutesConfigStore routes) : IStdioServerCatalog
{
    public IEnumerable<string> Names => routes.Current.Servers.Where(s => s.Value.Stdio is not null).Select(s => s.Key);

    public bool TryGet(string server, out StdioServerOptions options)
    {
        if (routes.Current.Servers.TryGetValue(server, out var configured) && configured.Transport == McpTransport.Stdio && configured.Stdio is { } stdio)
        {
            options = stdio;
            return true;
        }

        options = null!;
        return false;
    }
}
