using Gateway.Transforms.Configuration;
using Gateway.Transforms.Pipeline;

namespace Gateway.Proxy.Hosting;

/// <summary>What an operator reads when the gateway starts: which routes file it watches, and where each server is served.</summary>
internal static partial class GatewayStartLog
{
    public static void RoutesFile(ILogger logger, string path) => LogRoutesFile(logger, path);

    public static void ToolPins(ILogger logger, string location) => LogToolPins(logger, location);

    /// <summary>Once listening: a line per server with its URL, and the in-process bridge's address when it has stdio servers.</summary>
    public static void Serving(WebApplication app, RoutesConfigStore routes, Uri? bridge)
    {
        ArgumentNullException.ThrowIfNull(app);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GatewayApplication));
        var baseUrl = app.Urls.FirstOrDefault()?.TrimEnd('/') ?? string.Empty;
        foreach (var (name, server) in routes.Current.Servers.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var url = baseUrl + McpRouteMetadata.PathOf(name);
            var transport = Gateway.Configuration.ConfigurationReader.NameOf(server.Transport);
            LogServing(logger, name, url, transport);
        }

        if (bridge is not null && routes.Current.Servers.Values.Any(s => s.Transport == McpTransport.Stdio))
        {
            LogBridge(logger, bridge);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Routes: {Path} (edits apply while the gateway runs).")]
    private static partial void LogRoutesFile(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool pins: {Location}.")]
    private static partial void LogToolPins(ILogger logger, string location);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Server} at {Url} ({Transport}).")]
    private static partial void LogServing(ILogger logger, string server, string url, string transport);

    [LoggerMessage(Level = LogLevel.Information, Message = "The stdio bridge listens on {Address}, on loopback and for the gateway only.")]
    private static partial void LogBridge(ILogger logger, Uri address);
}
