using Gateway.Proxy.Api;
using Gateway.Proxy.Health;
using Gateway.Proxy.Mcp;
using Gateway.Proxy.RateLimiting;
using Gateway.Proxy.Resilience;
using Gateway.Proxy.Stdio;
using Gateway.Proxy.Telemetry;
using Gateway.Transforms.JsonRpc;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the gateway's endpoints and its proxy pipeline.</summary>
public static class GatewayEndpointExtensions
{
    private const int MaxEchoedNameLength = 64;

    public static WebApplication MapMcpGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Uptime counts from here; the bridge's gauges exist once created.
        app.Services.GetRequiredService<ProcessStart>();
        app.Services.GetRequiredService<StdioBridgeMetrics>();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(RoutesHealthCheck.ReadyTag) });
        app.MapServicesApi();
        app.MapDashboardApi();
        app.MapProtectedResourceMetadata();
        app.MapPrometheusScrapingEndpoint();

        // Before authentication, so that refused requests are measured and audited too.
        app.UseMiddleware<McpExchangeMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();

        // Configured servers are literal routes and win; anything else under /mcp/ is an unknown server.
        app.Map("/mcp/{**server}", (HttpContext context, string? server) =>
            JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status404NotFound, JsonRpcErrorCodes.UnknownServer,
                $"Unknown MCP server '{Truncate(server)}'. GET /api/v1/services lists the servers this gateway serves."));

        app.MapReverseProxy(pipeline =>
        {
            pipeline.UseMiddleware<UpstreamErrorMiddleware>();
            pipeline.UseMiddleware<McpRequestGuardMiddleware>();
            pipeline.UseMiddleware<RateLimitMiddleware>();
            pipeline.UseMcpSessionPinning();
            pipeline.UseMiddleware<ConnectRetryMiddleware>();
            pipeline.UseMiddleware<CircuitFilterMiddleware>();
            pipeline.UseLoadBalancing();
            pipeline.UseMiddleware<CircuitGuardMiddleware>();
            pipeline.UsePassiveHealthChecks();
        });
        return app;
    }

    private static string Truncate(string? value) =>
        value is null ? string.Empty : value.Length <= MaxEchoedNameLength ? value : value[..MaxEchoedNameLength];
}
