using Gateway.Proxy.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;

namespace Gateway.Tests.Infrastructure;

/// <summary>The real gateway, built by <see cref="GatewayApplication"/> exactly as Program does, on Kestrel at a loopback port.</summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGateway(WebApplication app, string routesPath, CapturedLogs logs)
    {
        Logs = logs;
        _app = app;
        RoutesPath = routesPath;
        BaseAddress = new Uri(app.Urls.First());
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    /// <summary>Everything the gateway logged.</summary>
    public CapturedLogs Logs { get; }

    public HttpClient Http { get; }

    public string RoutesPath { get; }

    public IServiceProvider Services => _app.Services;

    public Uri McpEndpoint(string server) => new(BaseAddress, "/mcp/" + server);

    /// <summary>Starts a gateway on <paramref name="routes"/>, written to a file of its own (or to <paramref name="routesPath"/>).</summary>
    public static Task<TestGateway> StartAsync(string routes, string? routesPath = null, params string[] extraArgs) =>
        StartAsync(routes, _ => { }, routesPath, extraArgs);

    /// <summary>Starts a gateway on <paramref name="routes"/>, with <paramref name="configure"/> having the last say over its builder (e.g. a fake clock for one part).</summary>
    public static Task<TestGateway> StartAsync(string routes, Action<WebApplicationBuilder> configure) => StartAsync(routes, configure, null, []);

    private static async Task<TestGateway> StartAsync(string routes, Action<WebApplicationBuilder> configure, string? routesPath, string[] extraArgs)
    {
        routesPath ??= Path.Combine(TempDirectory.Create(), "routes.yaml");
        await File.WriteAllTextAsync(routesPath, routes);
        var logs = new CapturedLogs();
        // The port is known before start, so that the gateway's public URL (which protected servers need) is its own.
        var port = UpstreamPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var app = await GatewayApplication.BuildAsync(
            // No drain on stop (unless the routes file sets one): a test's gateway has no load balancer to wait for.
            ["--routes", routesPath, "--port", port, "--gateway:publicUrl", $"http://127.0.0.1:{port}", "--environment", "Production",
                "--gateway:shutdown:drainDelay", "00:00:00",
                // Pins of its own (unless a test shares them, in extraArgs): tests reuse server names for upstreams with other tools.
                "--gateway:toolPins:file", Path.Combine(Path.GetDirectoryName(routesPath)!, "tool-pins.json"),
                "--gateway:toolPins:redisKey", "mcp-gateway:tool-pins:test-" + Guid.NewGuid().ToString("N"), .. extraArgs],
            builder =>
            {
                builder.Logging.AddProvider(logs);
                configure(builder);
            });
        await app.StartAsync();
        return new TestGateway(app, routesPath, logs);
    }

    /// <summary>Connects the MCP C# SDK client to <paramref name="server"/> through the gateway.</summary>
    /// <param name="server">The server name.</param>
    /// <param name="protocolVersion">Null for the SDK's default (2026-07-28 first, then fallback); a version to start there.</param>
    /// <param name="options">Client options (handlers, capabilities); the protocol version is set from <paramref name="protocolVersion"/>.</param>
    /// <param name="accessToken">A bearer token sent with every request.</param>
    public Task<McpClient> ConnectAsync(string server, string? protocolVersion = "2025-11-25", McpClientOptions? options = null, string? accessToken = null)
    {
        options ??= new McpClientOptions();
        options.ProtocolVersion = protocolVersion;
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = McpEndpoint(server),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = accessToken is null ? null : new Dictionary<string, string> { ["Authorization"] = "Bearer " + accessToken },
        });
        return McpClient.CreateAsync(transport, options, cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync(TimeSpan.FromSeconds(5).ToCancellationToken());
        await _app.DisposeAsync();
    }
}

/// <summary>Fresh directories under the system temp folder, one per call, removed when the test run ends.</summary>
public static class TempDirectory
{
    private static readonly System.Collections.Concurrent.ConcurrentBag<string> Created = CreateRegistry();

    public static string Create()
    {
        var path = Directory.CreateTempSubdirectory("gateway-tests-").FullName;
        Created.Add(path);
        return path;
    }

    private static System.Collections.Concurrent.ConcurrentBag<string> CreateRegistry()
    {
        var created = new System.Collections.Concurrent.ConcurrentBag<string>();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var path in created)
            {
                try
                {
                    Directory.Delete(path, recursive: true);
                }
                catch (IOException)
                {
                    // Still in use by a process that outlived the run; the system's temp cleanup will get it.
                }
            }
        };
        return created;
    }
}
