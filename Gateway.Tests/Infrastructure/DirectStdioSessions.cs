extern alias bridge;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text.Json;
using bridge::Gateway.StdioBridge.Configuration;
using bridge::Gateway.StdioBridge.Processes;
using bridge::Gateway.StdioBridge.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The bridge's sessions without its host: a session registry over a real process pool of the C# stdio test server,
/// on the clock the test gives, driven by calling the session as the bridge's endpoints do.
/// </summary>
internal sealed class DirectStdioSessions : IAsyncDisposable
{
    public const string Server = "test";

    public DirectStdioSessions(TimeProvider time, TimeSpan idleTimeout, int maxSessionsPerCaller = 4)
    {
        Options = new StdioServerOptions
        {
            Command = StdioCommand.TestServer.Program,
            Args = [.. StdioCommand.TestServer.Args],
            IdleTimeout = idleTimeout,
            MaxSessionsPerCaller = maxSessionsPerCaller,
        };
        Pool = new StdioProcessPool(new StdioProcessLauncher(NullLoggerFactory.Instance), time, NullLogger<StdioProcessPool>.Instance);
        Registry = new StdioSessionRegistry(Pool, time, NullLoggerFactory.Instance);
    }

    public StdioServerOptions Options { get; }

    public StdioProcessPool Pool { get; }

    public StdioSessionRegistry Registry { get; }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Starts a registered session of <paramref name="caller"/> on a process of its own and runs the initialize handshake on it.</summary>
    public async Task<StdioSession> StartAsync(string caller = "test")
    {
        var session = (await Registry.StartAsync(Server, Options, caller, oneShot: false, Ct)).Session;
        Assert.NotNull(session);
        Assert.Equal(RawMcp.ProtocolVersion, (await CallAsync(session, RawMcp.Initialize)).GetProperty("result").GetProperty("protocolVersion").GetString());
        var context = new DefaultHttpContext();
        Assert.False(await session.HandlePostAsync(Message(RawMcp.Initialized), context.Response, Ct));
        return session;
    }

    /// <summary>POSTs a request to the session and returns its answer.</summary>
    public static async Task<JsonElement> CallAsync(StdioSession session, string request)
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;
        Assert.True(await session.HandlePostAsync(Message(request), context.Response, Ct));
        var events = System.Text.Encoding.UTF8.GetString(body.ToArray());
        return JsonDocument.Parse(LastData(events)).RootElement.Clone();
    }

    /// <summary>The id of the session's process, as the process itself says.</summary>
    public static async Task<int> PidAsync(StdioSession session) =>
        int.Parse((await CallAsync(session, RawMcp.CallTool("pid", id: 7))).GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!,
            System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// POSTs a request and returns while it is still in flight: once the process has sent a first message for it
    /// (the stream the session writes its messages to is handed back, read up to that message).
    /// </summary>
    public static async Task<(Task<bool> Post, Stream Events)> StartCallAsync(StdioSession session, string request, CancellationToken cancellationToken)
    {
        var pipe = new Pipe();
        var context = new DefaultHttpContext();
        context.Response.Body = pipe.Writer.AsStream();
        var post = session.HandlePostAsync(Message(request), context.Response, cancellationToken);
        var events = pipe.Reader.AsStream();
        var firstMessage = FirstDataAsync(events);
        var first = await Task.WhenAny(firstMessage, post).WaitAsync(TimeSpan.FromSeconds(15), Ct);
        Assert.True(first == firstMessage, "The request ended before the process sent anything for it.");
        Assert.True(await firstMessage, "The session's stream ended before the process sent anything for the request.");
        return (post, events);
    }

    public static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Registry.DisposeAsync();
        await Pool.DisposeAsync();
    }

    private static async Task<bool> FirstDataAsync(Stream events)
    {
        using var reader = new StreamReader(events, leaveOpen: true);
        while (await reader.ReadLineAsync(Ct) is { } line)
        {
            if (IsData(line))
            {
                return true;
            }
        }

        return false;
    }

    private static JsonRpcMessage Message(string json) => JsonSerializer.Deserialize<JsonRpcMessage>(json, McpJsonUtilities.DefaultOptions)!;

    private static bool IsData(string line) => line.StartsWith("data:", StringComparison.Ordinal) && line.Length > "data:".Length && !string.IsNullOrWhiteSpace(line["data:".Length..]);

    private static string LastData(string events) => events.Split('\n').Select(l => l.TrimEnd('\r')).Last(IsData)["data:".Length..];
}
