using System.Net;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.VirtualServers;

/// <summary>
/// A virtual server: members built with the C# SDK behind one endpoint, each reached through its own route, with
/// real SDK clients in front.
/// </summary>
public sealed class VirtualServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lists_AreTheMembersUnion_AndCallsReachTheMemberThatListed()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var beta = await MutableToolsUpstream.StartAsync(("add", "Adds."), ("sub", "Subtracts."));
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .Server("beta", [beta.Endpoint], RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha", "beta"]).ToString());

        await using var client = await gateway.ConnectAsync("work");
        Assert.Equal("work", client.ServerInfo?.Name);
        var tools = (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.Contains("alpha__echo", tools);
        Assert.Contains("alpha__whoami", tools);
        Assert.Contains("beta__add", tools);
        Assert.Contains("beta__sub", tools);
        Assert.DoesNotContain("echo", tools);

        var echo = await client.CallToolAsync("alpha__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: Ct);
        Assert.Equal("hi", Assert.IsType<TextContentBlock>(echo.Content[0]).Text);
        var add = await client.CallToolAsync("beta__add", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Ct);
        Assert.Equal("add: x", Assert.IsType<TextContentBlock>(add.Content[0]).Text);
        Assert.Equal(1, beta.Calls);

        // Prompts are prefixed like tools; resource URIs are the members' own.
        Assert.Equal(["alpha__greet"], (await client.ListPromptsAsync(cancellationToken: Ct)).Select(p => p.Name));
        var greeting = await client.GetPromptAsync("alpha__greet", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: Ct);
        Assert.Contains("Hello, Ada!", Assert.IsType<TextContentBlock>(greeting.Messages[0].Content).Text);
        Assert.Contains("test://readme", (await client.ListResourcesAsync(cancellationToken: Ct)).Select(r => r.Uri));
        var readme = await client.ReadResourceAsync("test://readme", cancellationToken: Ct);
        Assert.Equal("read me", Assert.IsType<TextResourceContents>(readme.Contents[0]).Text);

        // The member's own route carried the call: its audit event names the virtual server.
        await Eventually.TrueAsync(() => Task.FromResult(gateway.Logs.Entries.Any(e =>
            e.Category == "Gateway.Audit" && Equals(e.Fields.GetValueOrDefault("Server"), "alpha") && Equals(e.Fields.GetValueOrDefault("Via"), "work")
            && Equals(e.Fields.GetValueOrDefault("McpMethod"), "tools/call"))));
    }

    [Fact]
    public async Task CallOfAnOpenMemberSession_GoesStraightDownTheMembersRoute_UnderTheClientsOwnId()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/work");
        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/work", RawMcp.CallTool("alpha__echo", id: 4242, arguments: """{"message":"direct"}"""), session), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Mcp-Session-Id"), "the member's session id stays with the gateway");
        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(4242, message.GetProperty("id").GetInt32());
        Assert.Equal("direct", message.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());

        // The member's own route carried it, renamed, under the client's id, and its audit names the virtual server.
        Assert.Contains(alpha.Posts, p => p.Body.Contains("\"id\":4242", StringComparison.Ordinal) && p.Body.Contains("\"name\":\"echo\"", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => Task.FromResult(gateway.Logs.Entries.Any(e => e.Category == "Gateway.Audit"
            && Equals(e.Fields.GetValueOrDefault("Server"), "alpha") && Equals(e.Fields.GetValueOrDefault("Via"), "work") && Equals(e.Fields.GetValueOrDefault("Target"), "echo"))));
    }

    [Fact]
    public async Task SessionOfOneVirtualServer_IsNotAnothers()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"])
            .VirtualServer("other", ["alpha"]).ToString());

        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/work");
        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/other", RawMcp.CallTool("alpha__whoami"), session), Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, -32001, id: "2");
        Assert.DoesNotContain(alpha.Posts, p => p.Body.Contains("whoami", StringComparison.Ordinal));
    }

    [Fact]
    public async Task VirtualServerName_IsOneServerWhateverItsCase()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"], "rateLimit: { requestsPerMinute: 2, burst: 2 }").ToString());

        using (await gateway.Http.SendAsync(RawMcp.Post("/mcp/work", RawMcp.Initialize), Ct))
        using (await gateway.Http.SendAsync(RawMcp.Post("/mcp/WORK", RawMcp.Initialize), Ct))
        using (var third = await gateway.Http.SendAsync(RawMcp.Post("/mcp/Work", RawMcp.Initialize), Ct))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        }
    }

    [Fact]
    public async Task MemberOfAnOlderRevision_IsSpokenToInIts()
    {
        await using var old = await MutableToolsUpstream.StartAsync(resumable: false, protocolVersion: "2025-03-26", ("add", "Adds."));
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("old", [old.Endpoint], RoutesYaml.NoProbes)
            .VirtualServer("work", ["old"]).ToString());

        await using var client = await gateway.ConnectAsync("work");
        Assert.Equal(["old__add"], (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));
        var add = await client.CallToolAsync("old__add", new Dictionary<string, object?> { ["message"] = "then" }, cancellationToken: Ct);
        Assert.Equal("add: then", Assert.IsType<TextContentBlock>(add.Content[0]).Text);
    }

    [Fact]
    public async Task UnknownTool_IsInvalidParams_NamingTheMembers()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        await using var client = await gateway.ConnectAsync("work");
        var unprefixed = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("echo", cancellationToken: Ct).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, unprefixed.ErrorCode);
        Assert.Contains("alpha", unprefixed.Message, StringComparison.Ordinal);
        var foreign = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("nobody__echo", cancellationToken: Ct).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, foreign.ErrorCode);
    }

    [Fact]
    public async Task ClientOf2026_IsServedWithoutASession()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        await using var client = await gateway.ConnectAsync("work", protocolVersion: null);
        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.Null(client.SessionId);
        Assert.Contains("alpha__echo", (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));
        var echo = await client.CallToolAsync("alpha__echo", new Dictionary<string, object?> { ["message"] = "stateless" }, cancellationToken: Ct);
        Assert.Equal("stateless", Assert.IsType<TextContentBlock>(echo.Content[0]).Text);
    }

    [Fact]
    public async Task IdleSessionlessSession_IsEnded_WithItsMemberSessions()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString(), builder => builder.Services.AddSingleton<TimeProvider>(time));

        await using (var first = await gateway.ConnectAsync("work", protocolVersion: null))
        {
            await first.CallToolAsync("alpha__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Ct);
        }

        Assert.DoesNotContain(alpha.Requests, r => r.Method == "DELETE");
        time.Advance(TimeSpan.FromMinutes(11));

        // A request of another set of member sessions (this client offers elicitation) looks for idle ones.
        var options = new McpClientOptions { Handlers = new McpClientHandlers { ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult()) } };
        await using var second = await gateway.ConnectAsync("work", protocolVersion: null, options: options);
        await second.ListToolsAsync(cancellationToken: Ct);
        await Eventually.TrueAsync(() => Task.FromResult(alpha.Requests.Any(r => r.Method == "DELETE")));
    }

    [Fact]
    public async Task TypeScriptClient_ListsAndCalls()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        var (exitCode, output) = await TypeScriptClient.RunAsync(gateway.McpEndpoint("work"), tool: "alpha__echo");
        Assert.True(exitCode == 0, output);
        using var seen = System.Text.Json.JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        Assert.Contains("alpha__echo", seen.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("from typescript", seen.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task MemberListChange_IsToldTheClient_WithTheNewTool()
    {
        await using var beta = await MutableToolsUpstream.StartAsync(("add", "Adds."));
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("beta", [beta.Endpoint], RoutesYaml.NoProbes, "toolPinning: { mode: off }")
            .VirtualServer("work", ["beta"]).ToString());

        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) => { changed.TrySetResult(); return ValueTask.CompletedTask; })],
            },
        };
        await using var client = await gateway.ConnectAsync("work", options: options);
        Assert.Equal(["beta__add"], (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));

        beta.Set("mul", "Multiplies.");
        await changed.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        Assert.Contains("beta__mul", (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));
    }

    [Fact]
    public async Task MemberProgress_ReachesTheClient_UnderItsOwnToken()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        await using var client = await gateway.ConnectAsync("work");
        var first = new TaskCompletionSource<ProgressNotificationValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = client.CallToolAsync("alpha__progress", progress: new CallbackProgress(v => first.TrySetResult(v)), cancellationToken: Ct).AsTask();
        Assert.Equal("first", (await first.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct)).Message);
        alpha.Gate.Release();
        Assert.Equal("done", Assert.IsType<TextContentBlock>((await call).Content[0]).Text);
    }

    [Fact]
    public async Task MemberProgress_ComesBeforeTheResult_AsTheMemberSentIt()
    {
        // On the wire: the SDK's client handles what it reads concurrently, and drops progress that it handles after the result.
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/work");
        alpha.Gate.Release();
        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/work",
            """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"alpha__progress","arguments":{},"_meta":{"progressToken":"mine"}}}""", session), Ct);
        var messages = (await response.Content.ReadAsStringAsync(Ct)).Split('\n')
            .Where(l => l.StartsWith("data:", StringComparison.Ordinal))
            .Select(l => System.Text.Json.JsonDocument.Parse(l["data:".Length..]).RootElement).ToList();

        var progress = messages.Where(m => m.TryGetProperty("method", out var method) && method.GetString() == "notifications/progress").ToList();
        Assert.Equal(["first", "second"], progress.Select(p => p.GetProperty("params").GetProperty("message").GetString()));
        Assert.All(progress, p => Assert.Equal("mine", p.GetProperty("params").GetProperty("progressToken").GetString()));
        Assert.True(messages.Last().TryGetProperty("result", out _), "the result comes last");
    }

    [Fact]
    public async Task CancelledCall_IsCancelledAtTheMember()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        // The client's explicit cancellation (MCP's notifications/cancelled; a dropped connection is not one).
        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/work");
        var call = gateway.Http.SendAsync(RawMcp.Post("/mcp/work", RawMcp.CallTool("alpha__held", id: 7), session), HttpCompletionOption.ResponseHeadersRead, Ct);
        await Eventually.TrueAsync(() => Task.FromResult(alpha.Posts.Any(p => p.Body.Contains("\"held\"", StringComparison.Ordinal))));
        using var cancelled = await gateway.Http.SendAsync(RawMcp.Post("/mcp/work",
            """{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"not needed"}}""", session), Ct);
        Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);

        // The member is told which of its requests: the one it is working on.
        await Eventually.TrueAsync(() => Task.FromResult(alpha.Posts.Any(p => p.Body.Contains("notifications/cancelled", StringComparison.Ordinal))));
        var held = alpha.Posts.First(p => p.Body.Contains("\"held\"", StringComparison.Ordinal));
        var cancellation = alpha.Posts.First(p => p.Body.Contains("notifications/cancelled", StringComparison.Ordinal));
        Assert.Equal(
            System.Text.Json.JsonDocument.Parse(held.Body).RootElement.GetProperty("id").GetRawText(),
            System.Text.Json.JsonDocument.Parse(cancellation.Body).RootElement.GetProperty("params").GetProperty("requestId").GetRawText());
        (await call).Dispose();
    }

    [Fact]
    public async Task MemberElicitation_IsAskedOfTheClient_AndTheAnswerGoesBack()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        string? asked = null;
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    asked = request?.Message;
                    return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, System.Text.Json.JsonElement> { ["name"] = System.Text.Json.JsonSerializer.SerializeToElement("Ada") } });
                },
            },
        };
        await using var client = await gateway.ConnectAsync("work", options: options);
        var result = await client.CallToolAsync("alpha__ask", cancellationToken: Ct);
        Assert.Equal("Hello, Ada!", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        Assert.Equal("Your name?", asked);
    }

#pragma warning disable MCP9005 // sampling and roots: deprecated in 2026-07-28, still what 2025 clients offer
    [Fact]
    public async Task MemberSamplingAndRoots_AreAskedOfTheClient_AndTheAnswersGoBack()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        string? prompt = null;
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) =>
                {
                    prompt = request?.Messages[0].Content.OfType<TextContentBlock>().First().Text;
                    return ValueTask.FromResult(new CreateMessageResult { Model = "test-model", Role = Role.Assistant, Content = [new TextContentBlock { Text = "short" }] });
                },
                RootsHandler = (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///work", Name = "work" }] }),
            },
        };
        await using var client = await gateway.ConnectAsync("work", options: options);

        var summary = await client.CallToolAsync("alpha__summarize", new Dictionary<string, object?> { ["text"] = "a long text" }, cancellationToken: Ct);
        Assert.Equal("short", Assert.IsType<TextContentBlock>(summary.Content[0]).Text);
        Assert.Equal("Summarize: a long text", prompt);
        var roots = await client.CallToolAsync("alpha__roots", cancellationToken: Ct);
        Assert.Equal("file:///work", Assert.IsType<TextContentBlock>(roots.Content[0]).Text);
    }
#pragma warning restore MCP9005

    [Fact]
    public async Task MemberElicitation_ReachesAClientOf2026_AsAnInputRequiredResult_AndItsAnswerGoesBack()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString());

        var asked = 0;
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (_, _) =>
                {
                    Interlocked.Increment(ref asked);
                    return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, System.Text.Json.JsonElement> { ["name"] = System.Text.Json.JsonSerializer.SerializeToElement("Grace") } });
                },
            },
        };
        // 2026-07-28 has no session and no server-to-client requests: the question comes back as the call's
        // input_required result, and the client's retry carries the answer (multi round-trip).
        await using var client = await gateway.ConnectAsync("work", protocolVersion: null, options: options);
        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        var result = await client.CallToolAsync("alpha__ask", cancellationToken: Ct);
        Assert.Equal("Hello, Grace!", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        Assert.Equal(1, asked);
        await Eventually.TrueAsync(() => Task.FromResult(gateway.Logs.Entries.Count(e =>
            e.Category == "Gateway.Audit" && Equals(e.Fields.GetValueOrDefault("Server"), "work") && Equals(e.Fields.GetValueOrDefault("McpMethod"), "tools/call")) >= 2));
    }

    [Fact]
    public async Task SilentMember_HoldsUpNeitherInitializeNorLists_BeyondTheMemberTimeout()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var silent = await SilentUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .Server("silent", [silent.Endpoint], RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha", "silent"], "memberTimeout: '00:00:01'").ToString());

        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var client = await gateway.ConnectAsync("work");
        var tools = (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.Contains("alpha__echo", tools);
        Assert.DoesNotContain(tools, t => t.StartsWith("silent__", StringComparison.Ordinal));
        // Initialize and the list waited on the silent member a second each (it never answers at all).
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), started.Elapsed.ToString());
    }

    [Fact]
    public async Task MemberThatComesBack_BringsItsToolsBack_AndTheClientIsTold()
    {
        var port = UpstreamPort.Free();
        var alpha = await TestUpstream.StartAsync("alpha", port: port);
        await using var beta = await MutableToolsUpstream.StartAsync(("add", "Adds."));
        // The member's breaker would keep it out for its break after the failures while it is down: this is about the
        // virtual server's own check.
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes, "circuitBreaker: { enabled: false }")
            .Server("beta", [beta.Endpoint], RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha", "beta"], "memberTimeout: '00:00:02'").ToString());
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) => { changed.TrySetResult(); return ValueTask.CompletedTask; })],
            },
        };
        await using var client = await gateway.ConnectAsync("work", options: options);
        Assert.Contains("alpha__echo", (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));

        await alpha.DisposeAsync();
        Assert.DoesNotContain("alpha__echo", (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));
        await using var back = await TestUpstream.StartAsync("alpha", port: port);

        // Checked every 5 s: the new process knows no session of the old one, so the gateway opens one.
        // (YARP's passive health check may keep the member's destination out for its 30 s after the failures.)
        await changed.Task.WaitAsync(TimeSpan.FromSeconds(90), Ct);
        Assert.Contains("alpha__echo", (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));
        var echo = await client.CallToolAsync("alpha__echo", new Dictionary<string, object?> { ["message"] = "back" }, cancellationToken: Ct);
        Assert.Equal("back", Assert.IsType<TextContentBlock>(echo.Content[0]).Text);
    }

    [Fact]
    public async Task UnchangedNames_LeaveOutANameTwoMembersList_AndSayWhy()
    {
        await using var a = await MutableToolsUpstream.StartAsync(("shared", "A's."), ("only_a", "A's own."));
        await using var b = await MutableToolsUpstream.StartAsync(("shared", "B's."), ("only_b", "B's own."));
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("a", [a.Endpoint], RoutesYaml.NoProbes)
            .Server("b", [b.Endpoint], RoutesYaml.NoProbes)
            .VirtualServer("work", ["a", "b"], "toolNames: unchanged").ToString());

        await using var client = await gateway.ConnectAsync("work");
        Assert.Equal(["only_a", "only_b"], (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Contains(gateway.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Message.Contains("'shared' is listed by both a and b", StringComparison.Ordinal));
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("shared", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Ct).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        var own = await client.CallToolAsync("only_b", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Ct);
        Assert.Equal("only_b: x", Assert.IsType<TextContentBlock>(own.Content[0]).Text);
    }

    [Fact]
    public async Task MemberDown_ItsToolsDropOut_AndItsCallsNameIt_WhileTheOthersServe()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        var beta = await MutableToolsUpstream.StartAsync(("add", "Adds."));
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .Server("beta", [beta.Endpoint], RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha", "beta"], "memberTimeout: '00:00:02'").ToString());

        await using var client = await gateway.ConnectAsync("work");
        Assert.Contains("beta__add", (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));
        await beta.DisposeAsync();

        // A JSON-RPC error of the call (not an HTTP failure of the virtual server), naming the member.
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("beta__add", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Ct).AsTask());
        Assert.Equal(JsonRpcErrorCodes.UpstreamUnavailable, (int)refused.ErrorCode);
        Assert.Contains("'beta'", refused.Message, StringComparison.Ordinal);
        var tools = (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.DoesNotContain("beta__add", tools);
        Assert.Contains("alpha__echo", tools);
        var echo = await client.CallToolAsync("alpha__echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: Ct);
        Assert.Equal("still here", Assert.IsType<TextContentBlock>(echo.Content[0]).Text);
    }

    [Fact]
    public async Task StdioReferenceServer_IsAMemberLikeAnyOther()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .StdioServer("everything", StdioCommand.Everything)
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["everything", "alpha"], "memberTimeout: '00:00:30'").ToString());

        await using var client = await gateway.ConnectAsync("work");
        var tools = (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.Contains("everything__echo", tools);
        Assert.Contains("alpha__echo", tools);
        var echo = await client.CallToolAsync("everything__echo", new Dictionary<string, object?> { ["message"] = "over stdio" }, cancellationToken: Ct);
        Assert.Contains("over stdio", Assert.IsType<TextContentBlock>(echo.Content[0]).Text, StringComparison.Ordinal);

        // Both members' resources, by their own URIs, each read from the member that listed it.
        var resources = (await client.ListResourcesAsync(cancellationToken: Ct)).Select(r => r.Uri).ToList();
        Assert.Contains("test://readme", resources);
        var everythingResource = resources.First(u => !u.StartsWith("test://readme", StringComparison.Ordinal));
        Assert.NotEmpty((await client.ReadResourceAsync(everythingResource, cancellationToken: Ct)).Contents);
    }
}
