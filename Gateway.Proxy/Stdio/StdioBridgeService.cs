using Gateway.StdioBridge.Hosting;

namespace Gateway.Proxy.Stdio;

/// <summary>
/// Runs the in-process stdio bridge with the gateway. It is started before the proxy routes are built (they need its
/// address), so starting here only covers hosts that did not; stopping ends every stdio session and process.
/// </summary>
internal sealed class StdioBridgeService(StdioBridgeHost bridge) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => bridge.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => bridge.StopAsync(cancellationToken);
}
