using Gateway.Transforms.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.Shutdown;

/// <summary>
/// The drain before the server stops, in the host's "stopping" phase, which ends before any service (the web server
/// among them) is stopped. Readiness fails as soon as the host is stopping; for <see cref="ShutdownOptions.DrainDelay"/>
/// requests are still served, then standalone GET streams are closed (<see cref="StreamsClosing"/>) and the server
/// stops, waiting for requests in flight until the grace period is over.
/// </summary>
internal sealed partial class GracefulShutdown(RoutesConfigStore routes, TimeProvider time, ILogger<GracefulShutdown> logger) : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _streamsClosing = new();

    /// <summary>Cancelled when standalone GET streams must end.</summary>
    public CancellationToken StreamsClosing => _streamsClosing.Token;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var drain = routes.Startup.Shutdown.DrainDelay;
        LogDraining(logger, drain);
        try
        {
            await Task.Delay(drain, time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The grace period is over already: close at once.
        }

        await _streamsClosing.CancelAsync().ConfigureAwait(false);
    }

    public void Dispose() => _streamsClosing.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: not ready any more; serving for {DrainDelay} while load balancers notice, then closing GET streams and finishing requests in flight.")]
    private static partial void LogDraining(ILogger logger, TimeSpan drainDelay);
}

/// <summary>Not ready once the gateway is stopping, so load balancers send nothing new.</summary>
internal sealed class ShutdownHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("Shutting down.")
            : HealthCheckResult.Healthy());
}
