using System.Diagnostics.Metrics;
using Gateway.Transforms.Pinning;
using Gateway.Transforms.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Infrastructure;

/// <summary>The gateway's <see cref="ToolPins"/> on a store of the test's choosing (a fresh file unless given), outside a gateway.</summary>
internal static class TestToolPins
{
    public static ToolPins Create(IToolPinStore? store = null, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        loggers ??= NullLoggerFactory.Instance;
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return new ToolPins(
            store ?? new FileToolPinStore(Path.Combine(TempDirectory.Create(), "tool-pins.json"), NullLogger.Instance),
            new ToolPinReporter(new McpAuditLog(loggers), new McpMetrics(meters), loggers.CreateLogger<ToolPins>()), time ?? TimeProvider.System);
    }
}
