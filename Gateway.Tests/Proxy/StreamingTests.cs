using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>The standalone GET stream: headers pass through, and only the configured activity timeout ends a quiet one.</summary>
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
}
