using Gateway.StdioBridge.Configuration;
using Gateway.StdioBridge.Processes;
using Gateway.StdioBridge.Sessions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.StdioBridge.Hosting;

/// <summary>
/// The bridge's own web server: every stdio server of the catalog at <c>{BaseAddress}/{server}/mcp</c>. The gateway
/// runs one in its process on a loopback port and forwards to it like to any upstream; the bridge executable runs
/// one on its own.
/// </summary>
public sealed class StdioBridgeHost : IAsyncDisposable
{
    /// <summary>The header that must carry <see cref="AccessKey"/>, when the bridge has one.</summary>
    public const string AccessKeyHeader = "X-Stdio-Bridge-Key";

    /// <summary>
    /// Who the caller of a request is, as the gateway knows them (a hash), for the per-caller session limit. Believed
    /// only from a request that carried the access key; otherwise the caller is its network address.
    /// </summary>
    public const string CallerHeader = "X-Stdio-Bridge-Caller";

    /// <summary>
    /// Marks the bridge's answer that every process of a server is busy, or that the caller has all the sessions it may,
    /// with its JSON-RPC error code: a refusal of the gateway's own, not an upstream failure.
    /// </summary>
    public const string BusyHeader = "X-Stdio-Bridge-Busy";

    private readonly WebApplication _app;

    private StdioBridgeHost(WebApplication app, string? accessKey)
    {
        _app = app;
        AccessKey = accessKey;
    }

    /// <summary>
    /// A secret every request must carry in <see cref="AccessKeyHeader"/>; null when any caller may use the bridge.
    /// The gateway sets one, so local processes cannot reach its stdio servers around the gateway's checks.
    /// </summary>
    public string? AccessKey { get; }

    /// <summary>Where the bridge listens, once started.</summary>
    public Uri BaseAddress => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>The streamable-HTTP endpoint of one stdio server.</summary>
    public Uri EndpointFor(string server) => new(BaseAddress, "/" + Uri.EscapeDataString(server) + "/mcp");

    /// <summary>Builds the bridge on <paramref name="url"/> (e.g. <c>http://127.0.0.1:0</c>), sharing the caller's logging and clock.</summary>
    public static StdioBridgeHost Create(IStdioServerCatalog catalog, string url, ILoggerFactory loggerFactory, TimeProvider timeProvider, string? accessKey = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Logging.ClearProviders();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        builder.Services.AddSingleton(timeProvider);
        builder.Services.AddSingleton(catalog);
        builder.Services.AddSingleton<StdioProcessLauncher>();
        builder.Services.AddSingleton<StdioProcessPool>();
        builder.Services.AddSingleton<StdioSessionRegistry>();
        builder.Services.AddHostedService<IdleSessionReaper>();

        var app = builder.Build();
        if (accessKey is not null)
        {
            app.UseMiddleware<AccessKeyMiddleware>(accessKey);
        }

        app.MapStdioBridge();
        return new StdioBridgeHost(app, accessKey);
    }

    /// <summary>Starts listening, so that <see cref="BaseAddress"/> is known; the gateway does this before it builds its routes.</summary>
    public Task ListenAsync(CancellationToken cancellationToken) => _app.StartAsync(cancellationToken);

    /// <summary>Starts the warm pools of the catalog's servers.</summary>
    public async Task WarmAsync()
    {
        var catalog = _app.Services.GetRequiredService<IStdioServerCatalog>();
        var pool = _app.Services.GetRequiredService<StdioProcessPool>();
        foreach (var server in catalog.Names)
        {
            if (catalog.TryGet(server, out var options))
            {
                await pool.WarmAsync(server, options).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs until the process is asked to stop (Ctrl+C, SIGTERM), then stops as <see cref="StopAsync"/> does.</summary>
    public async Task RunAsync()
    {
        await ListenAsync(CancellationToken.None).ConfigureAwait(false);
        await WarmAsync().ConfigureAwait(false);
        await _app.WaitForShutdownAsync().ConfigureAwait(false);
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Stops listening, ends every session and stops every process (gracefully, then killed).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        await _app.Services.GetRequiredService<StdioSessionRegistry>().DisposeAsync().ConfigureAwait(false);
        await _app.Services.GetRequiredService<StdioProcessPool>().DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>How many processes of <paramref name="server"/> are running, in sessions or waiting in the pool.</summary>
    public int ProcessCount(string server) => _app.Services.GetRequiredService<StdioProcessPool>().CountOf(server);

    /// <summary>How many sessions are live.</summary>
    public int SessionCount => _app.Services.GetRequiredService<StdioSessionRegistry>().Count;

    public async ValueTask DisposeAsync() => await _app.DisposeAsync().ConfigureAwait(false);
}
