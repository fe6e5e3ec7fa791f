using System.Net;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Proxy;

/// <summary>The MCP C# SDK client talking to a real SDK server through the gateway.</summary>
public sealed class McpForwardingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Client_UsesToolsResourcesAndPrompts_ThroughTheGateway()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream).ToString());

        var client = await gateway.ConnectAsync("demo");
        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        Assert.Contains(tools, t => t.Name == "echo");

        var echoed = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hello through the gateway" }, cancellationToken: Ct);
        Assert.Equal("hello through the gateway", Assert.IsType<TextContentBlock>(Assert.Single(echoed.Content)).Text);

        var resources = await client.ListResourcesAsync(cancellationToken: Ct);
        Assert.Contains(resources, r => r.Uri == "test://readme");
        var readme = await client.ReadResourceAsync("test://readme", cancellationToken: Ct);
        Assert.Equal("read me", Assert.IsType<TextResourceContents>(Assert.Single(readme.Contents)).Text);

        var prompts = await client.ListPromptsAsync(cancellationToken: Ct);
        Assert.Contains(prompts, p => p.Name == "greet");
        var prompt = await client.GetPromptAsync("greet", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: Ct);
        Assert.Equal("Hello, Ada!", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text);

        var clientSessionId = client.SessionId;
        await client.DisposeAsync();

        // The DELETE reached the upstream with the upstream's own id, which the client never saw.
        var delete = Assert.Single(upstream.Requests, r => r.Method == "DELETE");
        Assert.NotNull(delete.SessionId);
        Assert.NotEqual(clientSessionId, delete.SessionId);
        Assert.All(upstream.Requests, r => Assert.NotEqual(clientSessionId, r.SessionId));
    }

    [Fact]
    public async Task SessionId_GivenToClient_IsSealed_AndUpstreamGetsItsOwnBack()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream).ToString());

        var sealedId = await RawMcp.InitializeAsync(gateway.Http, "/mcp/demo");
        using var call = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami"), sealedId), Ct);
        Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        var answer = await RawMcp.ReadMessageAsync(call);
        Assert.Equal("a", answer.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());

        // Every answer on the session echoes the client's id unchanged.
        Assert.Equal(sealedId, Assert.Single(call.Headers.GetValues("Mcp-Session-Id")));
        var upstreamIds = upstream.Requests.Select(r => r.SessionId).OfType<string>().Distinct().ToList();
        var upstreamId = Assert.Single(upstreamIds);
        Assert.NotEqual(sealedId, upstreamId);
        Assert.DoesNotContain(upstreamId, sealedId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProgressNotification_ReachesClient_BeforeTheToolFinishes()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream).ToString());
        await using var client = await gateway.ConnectAsync("demo");

        var firstProgress = new TaskCompletionSource<ProgressNotificationValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new CallbackProgress(value => firstProgress.TrySetResult(value));
        var call = client.CallToolAsync("progress", progress: progress, cancellationToken: Ct).AsTask();

        // The tool cannot finish until the test releases it, and the test releases it only after the first
        // notification arrived: a gateway that buffered the SSE stream would never deliver it.
        var first = await firstProgress.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal("first", first.Message);
        Assert.False(call.IsCompleted);
        upstream.Gate.Release();

        var result = await call.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal("done", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    [Fact]
    public async Task StandaloneGetStream_DeliversServerInitiatedNotification()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream).ToString());
        await using var client = await gateway.ConnectAsync("demo");

        var received = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = client.RegisterNotificationHandler(UpstreamTools.PushedNotification, (notification, _) =>
        {
            received.TrySetResult(notification.Params?["text"]?.GetValue<string>());
            return ValueTask.CompletedTask;
        });

        await client.CallToolAsync("notify_later", new Dictionary<string, object?> { ["text"] = "pushed" }, cancellationToken: Ct);

        Assert.Equal("pushed", await received.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Contains(upstream.Requests, r => r.Method == "GET" && r.SessionId is not null);
    }

    [Fact]
    public async Task DefaultClient_Probing2026First_FallsBackToASession_WithTheRefusalPassedThrough()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream).ToString());

        await using (var client = await gateway.ConnectAsync("demo", protocolVersion: null))
        {
            Assert.NotNull(client.SessionId);
            Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
            var result = await client.CallToolAsync("whoami", cancellationToken: Ct);
            Assert.Equal("a", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        var methods = upstream.Posts.Select(p => JsonDocument.Parse(p.Body).RootElement.GetProperty("method").GetString()).ToList();
        Assert.Equal("server/discover", methods[0]);
        Assert.Contains("initialize", methods);

        // The stateful upstream's 4xx refusal of the 2026 probe reaches the client as the upstream wrote it.
        var discover = upstream.Posts[0];
        using var request = RawMcp.Post("/mcp/demo", discover.Body);
        request.Headers.Remove("MCP-Protocol-Version");
        foreach (var header in new[] { "MCP-Protocol-Version", "Mcp-Method" })
        {
            request.Headers.TryAddWithoutValidation(header, discover.Headers[header]);
        }

        using var direct = await new HttpClient().SendAsync(Clone(request, upstream.Endpoint), Ct);
        using var proxied = await gateway.Http.SendAsync(request, Ct);
        Assert.Equal(direct.StatusCode, proxied.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, proxied.StatusCode);
        Assert.Equal(
            (await RawMcp.ReadMessageAsync(direct)).GetProperty("error").GetProperty("code").GetInt32(),
            (await RawMcp.ReadMessageAsync(proxied)).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task SessionlessClient_2026_IsForwardedWithoutSessions()
    {
        await using var upstream = await TestUpstream.StartAsync("a", HttpServerSessionMode.StatefulForInitializeClients);
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream).ToString());

        await using (var client = await gateway.ConnectAsync("demo", protocolVersion: null))
        {
            Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
            var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "stateless" }, cancellationToken: Ct);
            Assert.Equal("stateless", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        Assert.All(upstream.Requests, r => Assert.Null(r.SessionId));
        var call = Assert.Single(upstream.Posts, p => p.Body.Contains("\"tools/call\"", StringComparison.Ordinal));
        Assert.Equal("tools/call", call.Headers["Mcp-Method"]);
        Assert.Equal("echo", call.Headers["Mcp-Name"]);
    }

    private static HttpRequestMessage Clone(HttpRequestMessage request, Uri target)
    {
        var clone = new HttpRequestMessage(request.Method, target) { Content = new StringContent(request.Content!.ReadAsStringAsync().Result, System.Text.Encoding.UTF8, "application/json") };
        foreach (var header in request.Headers)
        {
            clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return clone;
    }

}
