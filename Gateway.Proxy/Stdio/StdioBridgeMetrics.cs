using System.Diagnostics.Metrics;
using Gateway.StdioBridge.Hosting;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Telemetry;

namespace Gateway.Proxy.Stdio;

/// <summary>The in-process bridge as gauges: its processes per stdio server, and its sessions.</summary>
internal sealed class StdioBridgeMetrics
{
    public StdioBridgeMetrics(StdioBridgeHost bridge, RoutesConfigStore routes, IMeterFactory meters)
    {
        var meter = meters.Create(McpMetrics.MeterName);
        meter.CreateObservableGauge(
            "mcp.gateway.stdio.processes",
            () => routes.Current.Servers.Where(s => s.Value.Transport == McpTransport.Stdio)
                .Select(s => new Measurement<int>(bridge.ProcessCount(s.Key), new KeyValuePair<string, object?>(McpMetrics.ServerTag, s.Key))),
            "{process}",
            "Processes the stdio bridge runs per server, warm pool included.");
        meter.CreateObservableGauge("mcp.gateway.stdio.sessions", () => bridge.SessionCount, "{session}", "Sessions the stdio bridge holds.");
    }
}
