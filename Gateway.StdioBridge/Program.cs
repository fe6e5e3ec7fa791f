using Gateway.StdioBridge.Configuration;
using Gateway.StdioBridge.Hosting;

// The bridge on its own (a sidecar, a developer's laptop): stdio MCP servers at http://<host>:<port>/<server>/mcp.
var settings = StdioBridgeSettings.Parse(args, out var usageError);
if (settings is null)
{
    await Console.Error.WriteLineAsync($"{usageError}{Environment.NewLine}{StdioBridgeSettings.Usage}").ConfigureAwait(false);
    return 2;
}

var errors = new List<string>();
IStdioServerCatalog? catalog = settings.ConfigFile is { } file
    ? FixedStdioServerCatalog.Load(file, errors)
    : new FixedStdioServerCatalog(new Dictionary<string, StdioServerOptions> { [settings.Name!] = settings.Inline! });
if (catalog is null)
{
    await Console.Error.WriteLineAsync("The bridge did not start:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", errors)).ConfigureAwait(false);
    return 1;
}

using var loggerFactory = LoggerFactory.Create(logging => logging
    .AddSimpleConsole(o => o.SingleLine = true)
    .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
    .AddFilter("ModelContextProtocol", LogLevel.Warning)
    .SetMinimumLevel(LogLevel.Information));
await using var bridge = StdioBridgeHost.Create(catalog, settings.Url, loggerFactory, TimeProvider.System);
await bridge.RunAsync().ConfigureAwait(false);
return 0;
