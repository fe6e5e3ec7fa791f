using Yarp.ReverseProxy.Configuration;

// Usage: YarpProxy --urls http://127.0.0.1:<port> --upstream http://127.0.0.1:<port>/mcp
// Serves the upstream at /mcp/echo, the path the gateway uses, so wrk runs the same script against both.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
var upstream = builder.Configuration["upstream"] ?? throw new InvalidOperationException("Name the upstream MCP endpoint with --upstream <url>.");
RouteConfig[] routes =
[
    new()
    {
        RouteId = "echo",
        ClusterId = "echo",
        Match = new RouteMatch { Path = "/mcp/echo" },
        Transforms = [new Dictionary<string, string> { ["PathSet"] = new Uri(upstream).AbsolutePath }],
    },
];
ClusterConfig[] clusters =
[
    new()
    {
        ClusterId = "echo",
        Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = new Uri(upstream).GetLeftPart(UriPartial.Authority) } },
    },
];
builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);
var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync();
