using System.Globalization;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Guard;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Transforms.Forwarding;

/// <summary>Turns the routes in force into YARP routes and clusters: one route and one cluster per server.</summary>
internal sealed class McpProxyConfigProvider : IProxyConfigProvider
{
    /// <summary>Cluster metadata carrying <see cref="TimeoutOptions.Connect"/> to <see cref="McpForwarderHttpClientFactory"/>.</summary>
    public const string ConnectTimeoutMetadata = "Gateway.ConnectTimeout";

    /// <summary>How long a destination that failed too often (passive health) is left out before it is tried again.</summary>
    public static readonly TimeSpan PassiveReactivationPeriod = TimeSpan.FromSeconds(30);

    private static readonly string[] McpMethods = [HttpMethods.Post, HttpMethods.Get, HttpMethods.Delete];
    private readonly RoutesConfigStore _store;
    private readonly UpstreamAddresses _addresses;

    public McpProxyConfigProvider(RoutesConfigStore store, UpstreamAddresses addresses)
    {
        _store = store;
        _addresses = addresses;
    }

    public IProxyConfig GetConfig() => Build(_store.Current, _store.ChangeToken);

    private McpProxyConfig Build(RoutesOptions options, IChangeToken changeToken)
    {
        var routes = new List<RouteConfig>(options.Servers.Count);
        var clusters = new List<ClusterConfig>(options.Servers.Count);
        // A virtual server is served by the gateway itself (VirtualServers/), not forwarded.
        foreach (var (name, server) in options.Servers.Where(s => s.Value.Transport != McpTransport.Virtual))
        {
            routes.Add(new RouteConfig
            {
                RouteId = name,
                ClusterId = name,
                Match = new RouteMatch { Path = McpRouteMetadata.PathOf(name), Methods = McpMethods },
                AuthorizationPolicy = server.Auth.RequiresToken(_store.Startup.Auth) ? McpServerPolicyProvider.PolicyNameOf(name) : null,
                CorsPolicy = McpCorsPolicyProvider.PolicyName, // YARP then lets preflights (OPTIONS) match the route too
                Metadata = new Dictionary<string, string> { [McpRouteMetadata.Server] = name },
            });

            clusters.Add(new ClusterConfig
            {
                ClusterId = name,
                LoadBalancingPolicy = server.LoadBalancing,
                Destinations = _addresses.Of(name, server).ToDictionary(url => url, url => new DestinationConfig { Address = url }, StringComparer.OrdinalIgnoreCase),
                HttpRequest = new ForwarderRequestConfig { ActivityTimeout = server.Timeouts.Activity, AllowResponseBuffering = false },
                HealthCheck = new HealthCheckConfig
                {
                    // When every destination is down, answer 503 at once rather than YARP's "panic" of trying them all.
                    AvailableDestinationsPolicy = "HealthyAndUnknown",
                    Active = new ActiveHealthCheckConfig
                    {
                        // The bridge is in this process: a stdio server's health is its sessions', not an endpoint's.
                        Enabled = server.HealthCheck.Enabled && server.Transport == McpTransport.Http,
                        Interval = server.HealthCheck.Interval,
                        Timeout = server.HealthCheck.Timeout,
                        Policy = McpEndpointHealthPolicy.PolicyName,
                    },
                    Passive = new PassiveHealthCheckConfig { Enabled = true, Policy = "TransportFailureRate", ReactivationPeriod = PassiveReactivationPeriod },
                },
                Metadata = new Dictionary<string, string> { [ConnectTimeoutMetadata] = server.Timeouts.Connect.ToString("c", CultureInfo.InvariantCulture) },
            });
        }

        return new McpProxyConfig(routes, clusters, changeToken);
    }

    private sealed class McpProxyConfig(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters, IChangeToken changeToken) : IProxyConfig
    {
        public IReadOnlyList<RouteConfig> Routes { get; } = routes;

        public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;

        public IChangeToken ChangeToken { get; } = changeToken;
    }
}
