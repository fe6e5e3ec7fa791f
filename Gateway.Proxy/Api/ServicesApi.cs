using Gateway.Configuration;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Forwarding;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Pipeline;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy.Api;

/// <summary><c>/api/v1/services</c>: what the gateway serves, and a live check of each server.</summary>
internal static class ServicesApi
{
    public static IEndpointRouteBuilder MapServicesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/services").RequireGatewayAdmin();
        group.MapGet("/", (RoutesConfigStore routes, IProxyStateLookup state, UpstreamAddresses addresses) =>
            Results.Json<IReadOnlyList<ServiceInfo>>([.. routes.Current.Servers.Select(s => Describe(s.Key, s.Value, state, addresses))], GatewayJsonContext.Default.IReadOnlyListServiceInfo));

        group.MapGet("/{id}", (string id, RoutesConfigStore routes, IProxyStateLookup state, UpstreamAddresses addresses) =>
            routes.Current.Servers.TryGetValue(id, out var server)
                ? Results.Json(Describe(id, server, state, addresses), GatewayJsonContext.Default.ServiceInfo)
                : UnknownService(id));

        group.MapGet("/{id}/health", async (string id, RoutesConfigStore routes, UpstreamAddresses addresses, McpUpstreamProbe probe, CancellationToken cancellationToken) =>
        {
            if (!routes.Current.Servers.TryGetValue(id, out var server))
            {
                return UnknownService(id);
            }

            // A virtual server is as healthy as its members: each of their destinations is probed.
            var targets = server.Transport == McpTransport.Virtual
                ? server.Members.Where(routes.Current.Servers.ContainsKey).SelectMany(m => addresses.Of(m, routes.Current.Servers[m]).Select(url => (Server: routes.Current.Servers[m], Url: url)))
                : addresses.Of(id, server).Select(url => (Server: server, Url: url));
            var probes = await Task.WhenAll(targets.Select(t => probe.ProbeAsync(t.Server, t.Url, cancellationToken))).ConfigureAwait(false);
            var healthy = probes.Count(p => p.Healthy);
            var status = healthy == probes.Length ? "healthy" : healthy > 0 ? "degraded" : "unhealthy";
            return Results.Json(new ServiceHealth(id, status, probes), GatewayJsonContext.Default.ServiceHealth,
                statusCode: healthy == probes.Length ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });

        return endpoints;
    }

    private static IResult UnknownService(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown service", detail: $"No server named '{id}' is configured.");

    private static ServiceInfo Describe(string name, McpServerOptions server, IProxyStateLookup state, UpstreamAddresses addresses)
    {
        state.TryGetCluster(name, out var cluster);
        return new ServiceInfo(name, McpRouteMetadata.PathOf(name), ConfigurationReader.NameOf(server.Transport), server.LoadBalancing,
            [.. addresses.Of(name, server).Select(url => DescribeDestination(url, cluster))], server.Members);
    }

    internal static DestinationInfo DescribeDestination(string url, ClusterState? cluster)
    {
        var health = cluster?.Destinations.TryGetValue(url, out var destination) == true ? destination.Health : null;
        return new DestinationInfo(url, Describe(health?.Active), Describe(health?.Passive));
    }

    private static string Describe(DestinationHealth? health) => health switch
    {
        DestinationHealth.Healthy => "healthy",
        DestinationHealth.Unhealthy => "unhealthy",
        _ => "unknown",
    };
}
