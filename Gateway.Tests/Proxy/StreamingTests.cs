using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>SSE answers: the standalone GET stream's headers pass through, only the configured activity timeout ends a quiet one, and a slow POST answer's headers do not wait for its first event.</summary>
public sealed class StreamingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetStream_CarriesLastEventIdAndProtocolVersion_ToTheUpstream()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream, RoutesYaml.NoProbes).ToString());
        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/demo");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/mcp/demo");
        request.Headers.Add("Accept", "text/event-stream");
        request.Headers.Add("Mcp-Session-Id", session);
        request.Headers.Add("MCP-Protocol-Version", RawMcp.ProtocolVersion);
        request.Headers.Add("Last-Event-ID", "event-41");
        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);

        var get = Assert.Single(upstream.Requests, r => r.Method == "GET");
        Assert.Equal("event-41", get.Headers["Last-Event-ID"]);
        Assert.Equal(RawMcp.ProtocolVersion, get.Headers["MCP-Protocol-Version"]);
        Assert.NotEqual(session, get.SessionId);
    }

    [Fact]
    public async Task QuietGetStream_StaysOpenWithinTheActivityTimeout_AndIsCutAfterIt()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, RoutesYaml.NoProbes, "timeouts: { activity: '00:00:02' }").ToString());
        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/demo");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/mcp/demo");
        request.Headers.Add("Accept", "text/event-stream");
        request.Headers.Add("Mcp-Session-Id", session);
        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var stream = await response.Content.ReadAsStreamAsync(Ct);
        var started = DateTime.UtcNow;
        var buffer = new byte[1024];
        try
        {
            while (await stream.ReadAsync(buffer, Ct) > 0)
            {
            }
        }
        catch (IOException)
        {
            // A cut stream may end with a reset rather than a clean end; either way it ended.
        }

        var lasted = DateTime.UtcNow - started;
        Assert.InRange(lasted, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SlowTool_GetsItsAnswersHeadersAtOnce_NotWithItsFirstEvent()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream, RoutesYaml.NoProbes).ToString());
        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/demo");

        using var request = RawMcp.Post("/mcp/demo", RawMcp.CallTool("held"), session);
        using var headersIn = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        headersIn.CancelAfter(TimeSpan.FromSeconds(10));
        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headersIn.Token);

        // The headers came while the tool is still held: nothing of its answer exists yet.
        Assert.False(upstream.Gate.Released.IsCompleted);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        upstream.Gate.Release();
        Assert.Contains("released", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }
}
