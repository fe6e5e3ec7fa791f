using System.Net;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using ModelContextProtocol;

namespace Gateway.Tests.Policy;

/// <summary>
/// A server's <c>tools</c>, <c>resources</c> and <c>prompts</c> lists: what they do not allow is answered as the
/// server answers an unknown name, nothing is forwarded, and the audit event names the rule; the rest passes.
/// </summary>
public sealed class AccessListTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DeniedTool_IsAnUnknownTool_ToTheCaller_AndNeverReachesTheUpstream()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, RoutesYaml.NoProbes, "tools: { deny: ['who*', 'held'] }").ToString());
        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/demo");
        var before = upstream.Posts.Count;

        using var refused = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami", id: 7), session), Ct);

        var message = await RawMcp.AssertErrorAsync(refused, HttpStatusCode.OK, JsonRpcErrorCodes.InvalidParams, id: "7");
        Assert.Equal("Unknown tool: 'whoami'.", message);
        Assert.Equal(before, upstream.Posts.Count);
        await Eventually.TrueAsync(() => Task.FromResult(gateway.Logs.Entries.Any(e =>
            e.Category == "Gateway.Audit" && Equals(e.Fields.GetValueOrDefault("Rule"), "tools.deny 'who*'") && Equals(e.Fields["Target"], "whoami"))));

        // What the lists do not name passes, through a real client too.
        await using var client = await gateway.ConnectAsync("demo");
        var echoed = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "allowed" }, cancellationToken: Ct);
        Assert.Contains("allowed", echoed.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Single().Text, StringComparison.Ordinal);
        var denied = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("held", cancellationToken: Ct).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, denied.ErrorCode);
    }

    [Fact]
    public async Task AllowList_LetsOnlyWhatItNames_AndDenyWinsOverIt()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, RoutesYaml.NoProbes, "tools: { allow: ['e*', 'whoami'], deny: ['whoami'] }", "resources: { deny: ['test://*'] }", "prompts: { allow: ['none'] }").ToString());
        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/demo");

        using (var echo = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("echo", arguments: """{"message":"x"}"""), session), Ct))
        {
            Assert.False((await RawMcp.ReadMessageAsync(echo)).TryGetProperty("error", out _));
        }

        foreach (var (body, expected) in new[]
        {
            (RawMcp.CallTool("whoami"), "Unknown tool: 'whoami'."),
            (RawMcp.CallTool("progress"), "Unknown tool: 'progress'."),
            ("""{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"test://readme"}}""", "Resource not found: 'test://readme'."),
            ("""{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"greet","arguments":{"name":"x"}}}""", "Unknown prompt: 'greet'."),
            ("""{"jsonrpc":"2.0","id":2,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"name","value":"x"}}}""", "Unknown prompt: 'greet'."),
            ("""{"jsonrpc":"2.0","id":2,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"test://{x}"},"argument":{"name":"x","value":"y"}}}""", "Resource not found: 'test://{x}'."),
        })
        {
            using var refused = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", body, session), Ct);
            Assert.Equal(expected, await RawMcp.AssertErrorAsync(refused, HttpStatusCode.OK, JsonRpcErrorCodes.InvalidParams, id: "2"));
        }

        Assert.DoesNotContain(upstream.Posts, p => p.Body.Contains("whoami", StringComparison.Ordinal) || p.Body.Contains("test://readme", StringComparison.Ordinal));

        // A list the gateway filters must come in a form it can read: no compression is asked of the upstream.
        using var list = RawMcp.Post("/mcp/demo", """{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}}""", session);
        list.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, br");
        using (var listed = await gateway.Http.SendAsync(list, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        }

        var forwarded = upstream.Posts.Last(p => p.Body.Contains("tools/list", StringComparison.Ordinal));
        Assert.False(forwarded.Headers.ContainsKey("Accept-Encoding"));
    }
}
