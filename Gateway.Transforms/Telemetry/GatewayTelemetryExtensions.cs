using Gateway.Transforms.Telemetry;
using Gateway.Transforms.UpstreamTokens;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Metrics (Prometheus at <c>/metrics</c>), traces (OTLP, when configured) and the audit log.</summary>
public static class GatewayTelemetryExtensions
{
    /// <summary>The service name in traces and metrics' resource.</summary>
    public const string ServiceName = "mcp-gateway";

    /// <param name="services">The services.</param>
    /// <param name="otlpEndpoint">
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>. Traces are collected only when it is set: an <c>Activity</c> per request
    /// costs throughput, and with no collector nobody reads them.
    /// </param>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, string? otlpEndpoint)
    {
        services.AddSingleton<McpAuditLog>();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    // System.Runtime: the runtime's own (GC, allocated bytes, thread pool), which an operator needs beside the gateway's.
                    .AddMeter(McpMetrics.MeterName, CircuitBreakingDistributedCache.MeterName, "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")
                    .AddPrometheusExporter();
                if (!string.IsNullOrWhiteSpace(otlpEndpoint))
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (!string.IsNullOrWhiteSpace(otlpEndpoint))
        {
            // YARP forwards W3C traceparent/tracestate of the request's activity to the upstream.
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddSource("Yarp.ReverseProxy")
                .AddOtlpExporter());
        }

        return services;
    }
}
