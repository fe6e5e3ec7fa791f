using Gateway.Proxy.Configuration;
using Gateway.Transforms.Tokens;

namespace Gateway.Proxy.Identity;

/// <summary>Each server's <c>upstreamAuth</c> from the routes in force.</summary>
internal sealed class RoutesUpstreamAuthCatalog(RoutesConfigStore routes) : IUpstreamAuthCatalog
{
    public UpstreamAuthOptions? Find(string server) => routes.Current.Servers.TryGetValue(server, out var options) ? options.UpstreamAuth : null;
}
