using System.Net;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.JsonRpc;

namespace Gateway.Tests.Proxy;

public sealed class UpstreamFailureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UpstreamDown_Is502WithJsonRpcError_EchoingTheId()
    {
        var closedPort = UpstreamPort.Free();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("down", [new Uri($"http://127.0.0.1:{closedPort}/mcp")], "healthCheck: { enabled: false }").ToString());

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/down", RawMcp.CallTool("echo", id: 42)), Ct);
        var message = await RawMcp.AssertErrorAsync(response, HttpStatusCode.BadGateway, JsonRpcErrorCodes.UpstreamUnavailable, id: "42");
        Assert.Contains("down", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaticHeaders_AreAddedToEveryUpstreamRequest()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, "headers:", "  X-Api-Key: 'upstream-key'").ToString());

        using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Add("X-Api-Key", "caller-supplied");
        using var response = await gateway.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("upstream-key", Assert.Single(upstream.Posts).Headers["X-Api-Key"]);
    }
}
