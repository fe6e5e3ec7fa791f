using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Transforms.Configuration;

/// <summary>Readiness: routes are loaded (always, once started); degraded while the file holds an edit that was refused.</summary>
internal sealed class RoutesHealthCheck(RoutesConfigStore routes) : IHealthCheck
{
    public const string ReadyTag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["servers"] = routes.Current.Servers.Count };
        return Task.FromResult(routes.RejectedEdit is { } problems
            ? HealthCheckResult.Degraded("The routes file holds an edit that was refused; the last good routes are in force: " + problems, data: data)
            : HealthCheckResult.Healthy($"{routes.Current.Servers.Count} servers configured.", data));
    }
}
