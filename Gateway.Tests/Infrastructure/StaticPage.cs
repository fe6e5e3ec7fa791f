using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>One HTML file served at <c>/</c> by Kestrel on a loopback port: a browser application's own origin.</summary>
public sealed class StaticPage : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StaticPage(WebApplication app)
    {
        _app = app;
        Origin = new Uri(app.Urls.First()).GetLeftPart(UriPartial.Authority);
    }

    /// <summary>The page's origin, <c>http://127.0.0.1:&lt;port&gt;</c>.</summary>
    public string Origin { get; }

    public static async Task<StaticPage> StartAsync(string htmlPath)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        app.MapGet("/", () => Results.File(htmlPath, "text/html; charset=utf-8"));
        await app.StartAsync();
        return new StaticPage(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(2).ToCancellationToken());
        await _app.DisposeAsync();
    }
}
