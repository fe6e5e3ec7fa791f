using Gateway.StdioBridge.Hosting;

namespace Gateway.Proxy.Stdio;

/// <summary>
/// Runs the in-process stdio bridge with the gateway. It listens before the proxy routes are built (they need its
/// address, <see cref="Gateway.Proxy.Hosting.GatewayApplication"/>); the host's start fills its warm pools, and its
/// stop ends every stdio session and process.
/// </summary>
internal sealed class StdioBridgeService(StdioBridgeHost bridge) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => bridge.WarmAsync();

    public Task StopAsync(CancellationToken cancellationToken) => bridge.StopAsync(cancellationToken);
}
