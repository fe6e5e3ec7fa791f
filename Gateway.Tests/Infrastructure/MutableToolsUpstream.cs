using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real MCP server of the C# SDK (SSE answers) whose tools the test changes while it runs: each change is sent to
/// every session as <c>notifications/tools/list_changed</c>, as a server's update would be. Every tool echoes
/// <c>message</c> with its name.
/// </summary>
public sealed class MutableToolsUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly McpServerPrimitiveCollection<McpServerTool> _tools;

    private MutableToolsUpstream(WebApplication app, McpServerPrimitiveCollection<McpServerTool> tools)
    {
        _app = app;
        _tools = tools;
        Endpoint = new Uri(app.Urls.First() + "/mcp");
    }

    public Uri Endpoint { get; }

    /// <summary>How many <c>tools/call</c> requests reached the server.</summary>
    public int Calls => Volatile.Read(ref _calls);

    private int _calls;

    public static Task<MutableToolsUpstream> StartAsync(params (string Name, string Description)[] tools) => StartAsync(resumable: false, tools);

    /// <summary>Starts the server; <paramref name="resumable"/> keeps its SSE events (in memory) for clients that resume with <c>Last-Event-ID</c>.</summary>
    public static Task<MutableToolsUpstream> StartAsync(bool resumable, params (string Name, string Description)[] tools) => StartAsync(resumable, protocolVersion: null, tools);

    /// <summary>Starts the server; with <paramref name="protocolVersion"/> it answers every initialize with that revision, as an older server does.</summary>
    public static async Task<MutableToolsUpstream> StartAsync(bool resumable, string? protocolVersion, params (string Name, string Description)[] tools)
    {
        var collection = new McpServerPrimitiveCollection<McpServerTool>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var server = builder.Services.AddMcpServer(o =>
        {
            o.ServerInfo = new() { Name = "mutable-upstream", Version = "1.0.0" };
            o.ToolCollection = collection;
            o.ProtocolVersion = protocolVersion;
        }).WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.Stateful);
        if (resumable)
        {
            builder.Services.AddDistributedMemoryCache();
#pragma warning disable MCP9006 // Resumable streams are of sessions, which clients of 2025-11-25 and before still use.
            server.WithDistributedCacheEventStreamStore();
#pragma warning restore MCP9006
        }

        var app = builder.Build();
        app.MapMcp("/mcp");
        await app.StartAsync();
        var upstream = new MutableToolsUpstream(app, collection);
        foreach (var (name, description) in tools)
        {
            collection.Add(upstream.Tool(name, description));
        }

        return upstream;
    }

    /// <summary>Adds the tool, or replaces the one of its name (one <c>list_changed</c>).</summary>
    public void Set(string name, string description, bool readOnly = false)
    {
        using (_tools.DeferChangedEvents())
        {
            if (_tools.TryGetPrimitive(name, out var existing))
            {
                _tools.Remove(existing);
            }

            _tools.Add(Tool(name, description, readOnly));
        }
    }

    public void Remove(string name)
    {
        if (_tools.TryGetPrimitive(name, out var existing))
        {
            _tools.Remove(existing);
        }
    }

    private McpServerTool Tool(string name, string description, bool readOnly = false) => McpServerTool.Create(
        (string message) =>
        {
            Interlocked.Increment(ref _calls);
            return $"{name}: {message}";
        },
        new McpServerToolCreateOptions { Name = name, Description = description, ReadOnly = readOnly });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(2).ToCancellationToken());
        await _app.DisposeAsync();
    }
}
