using Gateway.Transforms.Configuration;
using Gateway.Transforms.Forwarding;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Pinning;
using Gateway.Transforms.Pipeline;
using Gateway.Transforms.Resilience;
using Gateway.Transforms.Telemetry;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy;

namespace Gateway.Proxy.Api;

/// <summary><c>/api/v1/dashboard</c>: totals since start, per-server health and circuit states, for a dashboard or a person.</summary>
internal static class DashboardApi
{
    public static IEndpointRouteBuilder MapDashboardApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/dashboard").RequireGatewayAdmin();
        group.MapGet("/overview", async (RoutesConfigStore routes, UpstreamAddresses addresses, McpMetrics metrics, DestinationCircuitBreakers breakers, TimeProvider time,
            ProcessStart start, ToolPins pins, CancellationToken cancellationToken) =>
        {
            var servers = routes.Current.Servers;
            var held = 0;
            foreach (var name in servers.Keys)
            {
                held += await HeldBackAsync(pins, name, cancellationToken).ConfigureAwait(false);
            }

            var totals = servers.Keys.Select(metrics.TotalsOf).ToList();
            var circuits = breakers.All.Where(b => servers.ContainsKey(b.Server)).Select(b => b.State).ToList();
            return Results.Json(
                new DashboardOverview(
                    servers.Count,
                    servers.Sum(s => addresses.Of(s.Key, s.Value).Count),
                    totals.Sum(t => t.Requests),
                    totals.Sum(t => t.Failed),
                    totals.Sum(t => t.SessionsStarted),
                    totals.Sum(t => t.SessionsEnded),
                    totals.Sum(t => t.OpenStreams),
                    totals.Sum(t => t.RateLimited),
                    circuits.Count(c => c is CircuitState.Open or CircuitState.Isolated),
                    circuits.Count(c => c == CircuitState.HalfOpen),
                    held,
                    Math.Round((time.GetUtcNow() - start.At).TotalSeconds, 1)),
                GatewayJsonContext.Default.DashboardOverview);
        });

        group.MapGet("/services/health", async (RoutesConfigStore routes, UpstreamAddresses addresses, McpMetrics metrics, DestinationCircuitBreakers breakers, IProxyStateLookup state,
            ToolPins pins, CancellationToken cancellationToken) =>
        {
            var held = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var name in routes.Current.Servers.Keys)
            {
                held[name] = await HeldBackAsync(pins, name, cancellationToken).ConfigureAwait(false);
            }

            var services = routes.Current.Servers.Select(s =>
            {
                state.TryGetCluster(s.Key, out var cluster);
                var totals = metrics.TotalsOf(s.Key);
                var destinations = addresses.Of(s.Key, s.Value).Select(url =>
                {
                    var health = ServicesApi.DescribeDestination(url, cluster);
                    var circuit = s.Value.CircuitBreaker.Enabled ? breakers.For(s.Key, url, s.Value.CircuitBreaker).State : CircuitState.Closed;
                    return new DashboardDestination(url, health.ActiveHealth, health.PassiveHealth, Describe(circuit));
                });
                return new DashboardService(s.Key, McpRouteMetadata.PathOf(s.Key), totals.Requests, totals.Failed, totals.SessionsStarted,
                    totals.SessionsEnded, totals.OpenStreams, totals.RateLimited, held[s.Key], [.. destinations]);
            });
            return Results.Json<IReadOnlyList<DashboardService>>([.. services], GatewayJsonContext.Default.IReadOnlyListDashboardService);
        });

        return endpoints;
    }

    /// <summary>The server's tools whose definition waits for approval (tool pinning), from this replica's copy: a poll does not read the store.</summary>
    private static async Task<int> HeldBackAsync(ToolPins pins, string server, CancellationToken cancellationToken) =>
        (await pins.PinsAsync(server, cancellationToken).ConfigureAwait(false)).Tools.Values.Count(t => t.Pending is not null);

    private static string Describe(CircuitState state) => state switch
    {
        CircuitState.Open or CircuitState.Isolated => "open",
        CircuitState.HalfOpen => "half-open",
        _ => "closed",
    };
}

/// <summary>When the gateway started, for the uptime it reports.</summary>
internal sealed record ProcessStart(DateTimeOffset At);
