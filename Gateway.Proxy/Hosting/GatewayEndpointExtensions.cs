using Gateway.Proxy.Api;
using Gateway.Proxy.Hosting;
using Gateway.Proxy.Stdio;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Guard;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the gateway's endpoints: health, the admin API, OAuth metadata, metrics, and the MCP servers.</summary>
public static class GatewayEndpointExtensions
{
    public static WebApplication MapMcpGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Uptime counts from here; the bridge's gauges exist, and removed servers' state is released, once created.
        app.Services.GetRequiredService<ProcessStart>();
        app.Services.GetRequiredService<StdioBridgeMetrics>();
        app.Services.GetRequiredService<RemovedServerState>();

        // First, so that every later step sees the client's address and scheme, not the proxy's.
        app.UseTrustedProxies(app.Services.GetRequiredService<RoutesConfigStore>().Startup.TrustedProxies);
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(RoutesHealthCheck.ReadyTag), ResponseWriter = ReadinessReport.WriteAsync });
        app.MapServicesApi();
        app.MapToolPinsApi();
        app.MapDashboardApi();
        app.MapProtectedResourceMetadata();
        app.MapPrometheusScrapingEndpoint();
        app.MapMcpServers();
        return app;
    }
}
