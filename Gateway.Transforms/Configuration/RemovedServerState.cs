using Gateway.Transforms.Forwarding;
using Gateway.Transforms.Limits;
using Gateway.Transforms.Resilience;
using Microsoft.Extensions.Primitives;

namespace Gateway.Transforms.Configuration;

/// <summary>
/// When the routes change, releases what the gateway keeps per server or destination for those that left them:
/// circuit breakers and this replica's rate-limit buckets. (YARP drops its own health state with the cluster.)
/// </summary>
internal sealed class RemovedServerState : IDisposable
{
    private readonly IDisposable _subscription;

    public RemovedServerState(RoutesConfigStore routes, UpstreamAddresses addresses, DestinationCircuitBreakers breakers, CallerRateLimiter limiter)
    {
        _subscription = ChangeToken.OnChange(() => routes.ChangeToken, () =>
        {
            var servers = routes.Current.Servers;
            breakers.Retain((server, destination) => servers.TryGetValue(server, out var options)
                && addresses.Of(server, options).Contains(destination, StringComparer.OrdinalIgnoreCase));
            limiter.Retain(servers.ContainsKey);
        });
    }

    public void Dispose() => _subscription.Dispose();
}
