using System.Collections.Concurrent;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;

namespace Gateway.Tests.Infrastructure;

/// <summary>What an upstream saw of one HTTP request.</summary>
public sealed record RecordedRequest(string Method, string Path, string? SessionId, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A real MCP server (ModelContextProtocol.AspNetCore on Kestrel, loopback, port 0) that records every HTTP request it
/// receives, so tests can assert what the gateway forwarded, and to which instance.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestUpstream(WebApplication app, string name)
    {
        _app = app;
        Name = name;
        Endpoint = new Uri(app.Urls.First() + "/mcp");
        Gate = app.Services.GetRequiredService<ProgressGate>();
    }

    public string Name { get; }

    public Uri Endpoint { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public ProgressGate Gate { get; }

    /// <summary>Starts an upstream; with <paramref name="trustedIssuer"/> it accepts only that issuer's tokens whose audience is <paramref name="name"/>.</summary>
    public static async Task<TestUpstream> StartAsync(
        string name, HttpServerSessionMode sessionMode = HttpServerSessionMode.Stateful, int port = 0, Uri? trustedIssuer = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(new UpstreamIdentity(name));
        builder.Services.AddSingleton<ProgressGate>();
        builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "test-upstream", Version = "1.0.0" })
            .WithHttpTransport(o => o.SessionMode = sessionMode)
            .WithTools<UpstreamTools>()
            .WithResources<UpstreamResources>()
            .WithPrompts<UpstreamPrompts>();

        if (trustedIssuer is not null)
        {
            builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
            {
                o.Authority = trustedIssuer.ToString();
                o.RequireHttpsMetadata = false;
                o.MapInboundClaims = false;
                o.TokenValidationParameters.ValidAudience = name;
            });
            builder.Services.AddAuthorization();
        }

        var app = builder.Build();
        TestUpstream? upstream = null;
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            context.Request.Body.Position = 0;
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            upstream!.Requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path, headers.GetValueOrDefault("Mcp-Session-Id"), headers, body));
            await next(context);
        });
        var endpoint = app.MapMcp("/mcp");
        if (trustedIssuer is not null)
        {
            // After the recorder, so that requests the upstream refuses are recorded too.
            app.UseAuthentication();
            app.UseAuthorization();
            endpoint.RequireAuthorization();
        }

        await app.StartAsync();
        upstream = new TestUpstream(app, name);
        return upstream;
    }

    /// <summary>The requests that carried a JSON-RPC method, in order.</summary>
    public IReadOnlyList<RecordedRequest> Posts => [.. Requests.Where(r => HttpMethods.IsPost(r.Method))];

    public async ValueTask DisposeAsync()
    {
        Gate.Release();
        await _app.StopAsync(TimeSpan.FromSeconds(2).ToCancellationToken());
        await _app.DisposeAsync();
    }
}

/// <summary>The instance name the <c>whoami</c> tool reports.</summary>
public sealed record UpstreamIdentity(string Name);

/// <summary>Holds the <c>progress</c> tool after its first notification until the test releases it.</summary>
public sealed class ProgressGate
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Released => _released.Task;

    public void Release() => _released.TrySetResult();
}

internal static class TimeSpanExtensions
{
    public static CancellationToken ToCancellationToken(this TimeSpan timeout) => new CancellationTokenSource(timeout).Token;
}
