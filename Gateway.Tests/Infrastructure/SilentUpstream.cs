using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Infrastructure;

/// <summary>An HTTP server that takes requests and never answers them.</summary>
public sealed class SilentUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SilentUpstream(WebApplication app) => _app = app;

    public Uri Endpoint => new(_app.Urls.First() + "/mcp");

    public static async Task<SilentUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/mcp", (HttpContext context) => Task.Delay(Timeout.Infinite, context.RequestAborted));
        await app.StartAsync();
        return new SilentUpstream(app);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
