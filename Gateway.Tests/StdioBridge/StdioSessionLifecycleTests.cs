extern alias bridge;
using System.Diagnostics;
using System.Net;
using bridge::Gateway.StdioBridge.Hosting;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.StdioBridge;

/// <summary>Processes per session, their ends (DELETE, idleness, crash, shutdown) and their limits, with the C# stdio test server.</summary>
public sealed class StdioSessionLifecycleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoClients_GetTwoProcesses_AndNeverSeeEachOthersMessages()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer).ToString());
        await using var alice = await gateway.ConnectAsync("test");
        await using var bob = await gateway.ConnectAsync("test");
        var pushedToAlice = Listen(alice);
        var pushedToBob = Listen(bob);

        Assert.NotEqual(await PidAsync(alice), await PidAsync(bob));

        await alice.CallToolAsync("notify_later", new Dictionary<string, object?> { ["text"] = "for alice" }, cancellationToken: Ct);
        await bob.CallToolAsync("notify_later", new Dictionary<string, object?> { ["text"] = "for bob" }, cancellationToken: Ct);

        // Both pushes have reached their clients before either end marker is pushed (see Collect): a push of the
        // other process that went astray was sent before the marker, on the stream the marker then comes down.
        await Eventually.TrueAsync(() => Task.FromResult(!pushedToAlice.IsEmpty && !pushedToBob.IsEmpty));
        Assert.Equal(["for alice"], await Collect(alice, pushedToAlice));
        Assert.Equal(["for bob"], await Collect(bob, pushedToBob));
    }

    [Fact]
    public async Task Delete_EndsTheSession_AndStopsItsProcess()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer).ToString());
        var client = await gateway.ConnectAsync("test");
        var pid = await PidAsync(client);
        Assert.True(IsRunning(pid));
        var before = gateway.Logs.Entries.Count;

        await client.DisposeAsync();

        await Eventually.TrueAsync(() => Task.FromResult(!IsRunning(pid)));
        await Eventually.TrueAsync(() => Task.FromResult(gateway.Logs.Entries.Any(e => e.Message.StartsWith("Ended session", StringComparison.Ordinal))));

        // An ordinary end is no cause for concern.
        Assert.DoesNotContain(gateway.Logs.Entries.Skip(before), e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task IdleSession_IsReaped_ItsProcessStopped_AndItsIdForgotten()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer, "idleTimeout: '00:00:01'").ToString());
        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/test");
        using (var call = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.CallTool("pid"), session), Ct))
        {
            var pid = (await RawMcp.ReadMessageAsync(call)).GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString();
            await Eventually.TrueAsync(() => Task.FromResult(!IsRunning(int.Parse(pid!, System.Globalization.CultureInfo.InvariantCulture))));
        }

        using var late = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.CallTool("pid"), session), Ct);
        await RawMcp.AssertErrorAsync(late, HttpStatusCode.NotFound, JsonRpcErrorCodes.SessionNotFound, id: "2");
    }

    [Fact]
    public async Task ProcessLimit_EndsTheSessionIdleTheLongest_ToStartANewOne()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer, "maxProcesses: 1").ToString());
        var abandoned = await RawMcp.InitializeAsync(gateway.Http, "/mcp/test");

        // A client that never sends DELETE (mcp-remote, the Inspector's CLI) does not hold the only process.
        await using var next = await gateway.ConnectAsync("test");
        Assert.Equal("echoed", await EchoAsync(next, "echoed"));

        using var late = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.CallTool("pid"), abandoned), Ct);
        await RawMcp.AssertErrorAsync(late, HttpStatusCode.NotFound, JsonRpcErrorCodes.SessionNotFound, id: "2");
        Assert.Equal(1, gateway.Services.GetRequiredService<StdioBridgeHost>().ProcessCount("test"));
    }

    [Fact]
    public async Task ProcessLimit_WithEveryProcessBusy_Is503WithRetryAfter_AndDoesNotOpenTheCircuit()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer, "maxProcesses: 1").ToString());
        await using var busy = await gateway.ConnectAsync("test");
        var call = await StartSlowCallAsync(busy);

        // More refusals than the breaker's minimum throughput: none counts as a failure of the server.
        for (var i = 0; i < 12; i++)
        {
            using var refused = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.Initialize), Ct);
            await RawMcp.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, JsonRpcErrorCodes.ServerBusy, id: "1");
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            Assert.False(refused.Headers.Contains(StdioBridgeHost.BusyHeader));
        }

        await call;
        using var admitted = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.Initialize), Ct);
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [Fact]
    public async Task CallerAtItsSessionLimit_WithEverySessionBusy_Is429_HoweverItNamesItself()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer, "maxProcesses: 4", "maxSessionsPerCaller: 1").ToString());
        await using var busy = await gateway.ConnectAsync("test");
        var call = await StartSlowCallAsync(busy);

        // The bridge believes only the gateway about who is calling; a caller that names itself anew each time is still one caller.
        for (var i = 0; i < 12; i++)
        {
            using var request = RawMcp.Post("/mcp/test", RawMcp.Initialize);
            request.Headers.Add(StdioBridgeHost.CallerHeader, "someone-else-" + i);
            using var refused = await gateway.Http.SendAsync(request, Ct);
            var message = await RawMcp.AssertErrorAsync(refused, HttpStatusCode.TooManyRequests, JsonRpcErrorCodes.RateLimited, id: "1");
            Assert.Contains("1 sessions", message, StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            Assert.False(refused.Headers.Contains(StdioBridgeHost.BusyHeader));
        }

        Assert.Equal(1, gateway.Services.GetRequiredService<StdioBridgeHost>().ProcessCount("test"));
        await call;
        using var admitted = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.Initialize), Ct);
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [Fact]
    public async Task MissingCommand_Is502NamingIt_InOneLogLine()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", new StdioCommand("no-such-command-4711", [])).ToString());
        var started = Stopwatch.StartNew();

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.Initialize), Ct);

        var message = await RawMcp.AssertErrorAsync(response, HttpStatusCode.BadGateway, JsonRpcErrorCodes.UpstreamUnavailable, id: "1");
        Assert.Contains("'no-such-command-4711' was not found", message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(3), $"answered after {started.Elapsed}");
        var logged = Assert.Single(gateway.Logs.Entries, e => e.Message.Contains("no-such-command-4711", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProgramThatExitsAtOnce_AnswersWithItsExitCodeAndStderr_WithoutAnUnhandledException()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .StdioServer("test", new StdioCommand("sh", ["-c", "echo starting >&2; echo boom >&2; exit 3"])).ToString());
        var started = Stopwatch.StartNew();

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.Initialize), Ct);

        var answer = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(1, answer.GetProperty("id").GetInt32());
        var error = answer.GetProperty("error");
        Assert.Equal(JsonRpcErrorCodes.UpstreamUnavailable, error.GetProperty("code").GetInt32());
        Assert.Contains("exited with code 3; its last stderr lines: starting | boom", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(3), $"answered after {started.Elapsed}");
        Assert.DoesNotContain(gateway.Logs.Entries, e => e.Message.Contains("   at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CrashMidRequest_FailsThatRequestAndEndsOnlyItsSession()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer).ToString());
        await using var survivor = await gateway.ConnectAsync("test");
        var crasher = await RawMcp.InitializeAsync(gateway.Http, "/mcp/test");

        using var crash = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.CallTool("crash", id: 3), crasher), Ct);
        var answer = await RawMcp.ReadMessageAsync(crash);
        Assert.Equal(3, answer.GetProperty("id").GetInt32());
        Assert.Contains("exited", answer.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        await Eventually.TrueAsync(async () =>
        {
            using var after = await gateway.Http.SendAsync(RawMcp.Post("/mcp/test", RawMcp.CallTool("pid"), crasher), Ct);
            return after.StatusCode == HttpStatusCode.NotFound;
        });
        Assert.Equal("still here", await EchoAsync(survivor, "still here"));
    }

    [Fact]
    public async Task SlowStartingServer_StillGetsItsSession()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .StdioServer("test", StdioCommand.TestServer, "environment: { STDIO_TEST_START_DELAY_MS: '1500' }").ToString());
        var started = Stopwatch.StartNew();

        await using var client = await gateway.ConnectAsync("test");

        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(1.5));
        Assert.Equal("late but fine", await EchoAsync(client, "late but fine"));
    }

    [Fact]
    public async Task StandardError_IsLoggedWithServerAndSession()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer).ToString());
        await using var client = await gateway.ConnectAsync("test");

        await client.CallToolAsync("stderr", new Dictionary<string, object?> { ["line"] = "a line on stderr" }, cancellationToken: Ct);

        await Eventually.TrueAsync(() => Task.FromResult(gateway.Logs.Entries.Any(e =>
            e.Message.Contains("a line on stderr", StringComparison.Ordinal) && e.Message.Contains("[test ", StringComparison.Ordinal)
            && !e.Message.Contains("[test -]", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task HugeMessages_PassWhole()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer).ToString());
        await using var client = await gateway.ConnectAsync("test");
        var large = new string('q', 1_500_000);

        Assert.Equal(large, await EchoAsync(client, large));
        var huge = await client.CallToolAsync("huge", new Dictionary<string, object?> { ["length"] = 3_000_000 }, cancellationToken: Ct);
        Assert.Equal(3_000_000, Assert.IsType<TextContentBlock>(Assert.Single(huge.Content)).Text.Length);
    }

    [Fact]
    public async Task ChildEnvironment_HoldsOnlyWhatIsListed()
    {
        Environment.SetEnvironmentVariable("GATEWAY_TEST_SECRET", "not for children");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .StdioServer("closed", StdioCommand.TestServer, "environment: { GIVEN: 'given' }")
            .StdioServer("open", StdioCommand.TestServer, "inheritEnvironment: [PATH, HOME, GATEWAY_TEST_SECRET]").ToString());
        await using var closed = await gateway.ConnectAsync("closed");
        await using var open = await gateway.ConnectAsync("open");

        Assert.Equal("(unset)", await EnvAsync(closed, "GATEWAY_TEST_SECRET"));
        Assert.Equal("given", await EnvAsync(closed, "GIVEN"));
        Assert.Equal("not for children", await EnvAsync(open, "GATEWAY_TEST_SECRET"));
    }

    [Fact]
    public async Task WarmPool_IsStartedAhead_AndToppedUpAfterUse()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer, "warmPool: 2").ToString());
        var bridge = gateway.Services.GetRequiredService<StdioBridgeHost>();
        await Eventually.TrueAsync(() => Task.FromResult(bridge.ProcessCount("test") == 2));

        await using var client = await gateway.ConnectAsync("test");

        await Eventually.TrueAsync(() => Task.FromResult(bridge.ProcessCount("test") == 3));
    }

    [Fact]
    public async Task Shutdown_StopsEveryProcess()
    {
        var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer, "warmPool: 1").ToString());
        var client = await gateway.ConnectAsync("test");
        var pid = await PidAsync(client);

        await gateway.DisposeAsync();

        Assert.False(IsRunning(pid));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task InProcessBridge_RefusesCallersWithoutTheGatewaysKey()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer).ToString());
        var bridge = gateway.Services.GetRequiredService<StdioBridgeHost>();
        Assert.True(bridge.EndpointFor("test").IsLoopback);

        using var direct = await new HttpClient().SendAsync(RawMcp.Post(bridge.EndpointFor("test").ToString(), RawMcp.Initialize), Ct);

        await RawMcp.AssertErrorAsync(direct, HttpStatusCode.Forbidden, JsonRpcErrorCodes.BridgeAccessDenied);
        Assert.Equal(0, bridge.ProcessCount("test"));
    }

    [Fact]
    public async Task DefaultClient_Probing2026First_Works()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("test", StdioCommand.TestServer).ToString());
        await using var client = await gateway.ConnectAsync("test", protocolVersion: null);

        Assert.Equal("negotiated", await EchoAsync(client, "negotiated"));
    }

    /// <summary>Starts a call that keeps the session's process busy for 1.5 s, once its first progress has arrived.</summary>
    private static async Task<Task> StartSlowCallAsync(McpClient client)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = client.CallToolAsync("progress", new Dictionary<string, object?> { ["steps"] = 2, ["delayMs"] = 1500 },
            new CallbackProgress(_ => started.TrySetResult()), cancellationToken: Ct).AsTask();
        await started.Task.WaitAsync(Ct);
        return call;
    }

    private static async Task<int> PidAsync(McpClient client)
    {
        var result = await client.CallToolAsync("pid", cancellationToken: Ct);
        return int.Parse(Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string> EchoAsync(McpClient client, string message)
    {
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: Ct);
        return Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
    }

    private static async Task<string> EnvAsync(McpClient client, string name)
    {
        var result = await client.CallToolAsync("env", new Dictionary<string, object?> { ["name"] = name }, cancellationToken: Ct);
        return Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
    }

    private static System.Collections.Concurrent.ConcurrentQueue<string> Listen(McpClient client)
    {
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        client.RegisterNotificationHandler(Gateway.Tests.StdioTestServer.TestTools.PushedNotification, (notification, _) =>
        {
            received.Enqueue(notification.Params?["text"]?.GetValue<string>() ?? "");
            return ValueTask.CompletedTask;
        });
        return received;
    }

    /// <summary>
    /// What <paramref name="client"/> received before a last push through its own session: a notification is pushed
    /// on the session's GET stream, which carries messages in order, so once this end marker has arrived anything
    /// pushed to that stream before it has arrived too. (An answer to a request would not do: it comes on the POST's
    /// own response, which is not ordered with the GET stream.) The marker itself is left out of the answer.
    /// </summary>
    private static async Task<string[]> Collect(McpClient client, System.Collections.Concurrent.ConcurrentQueue<string> received)
    {
        var marker = "end of " + Guid.NewGuid().ToString("N");
        await client.CallToolAsync("notify_later", new Dictionary<string, object?> { ["text"] = marker }, cancellationToken: Ct);
        await Eventually.TrueAsync(() => Task.FromResult(received.Contains(marker)));
        return [.. received.Where(text => text != marker)];
    }

    private static bool IsRunning(int pid)
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
}
