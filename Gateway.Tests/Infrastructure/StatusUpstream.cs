using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>A broken upstream on Kestrel: answers every request with one status (a 500, a 400) and counts them.</summary>
public sealed class StatusUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private StatusUpstream(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}/mcp");

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Starts one that answers with <paramref name="status"/> and each of <paramref name="headers"/> (<c>Name: value</c>).</summary>
    public static async Task<StatusUpstream> StartAsync(int status, int port, params string[] headers)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        StatusUpstream? upstream = null;
        app.Run(context =>
        {
            Interlocked.Increment(ref upstream!._requests);
            context.Response.StatusCode = status;
            foreach (var header in headers)
            {
                var (name, value) = (header[..header.IndexOf(':', StringComparison.Ordinal)], header[(header.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
                context.Response.Headers[name] = value;
            }

            return Task.CompletedTask;
        });
        await app.StartAsync();
        upstream = new StatusUpstream(app, port);
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(2).ToCancellationToken());
        await _app.DisposeAsync();
    }
}
