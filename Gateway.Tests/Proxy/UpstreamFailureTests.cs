using System.Net;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxy;

public sealed class UpstreamFailureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UpstreamDown_Is502WithJsonRpcError_EchoingTheId()
    {
        var closedPort = UpstreamPort.Free();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("down", [new Uri($"http://127.0.0.1:{closedPort}/mcp")], RoutesYaml.NoProbes).ToString());

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/down", RawMcp.CallTool("echo", id: 42)), Ct);
        var message = await RawMcp.AssertErrorAsync(response, HttpStatusCode.BadGateway, JsonRpcErrorCodes.UpstreamUnavailable, id: "42");
        Assert.Contains("down", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedHealthProbe_IsOneLogLineWithItsReason()
    {
        var deadEndpoint = new Uri($"http://127.0.0.1:{UpstreamPort.Free()}/mcp");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("down", [deadEndpoint], "healthCheck: { interval: '00:00:00.200', timeout: '00:00:01' }").ToString());

        await Eventually.TrueAsync(() => Task.FromResult(gateway.Logs.Entries.Count(IsProbeFailure) >= 2));

        var line = gateway.Logs.Entries.First(IsProbeFailure).Message;
        Assert.Equal($"Health probe of server down at {deadEndpoint} failed: Connection refused", line);
        Assert.DoesNotContain(gateway.Logs.Entries, e => e.Message.Contains("   at ", StringComparison.Ordinal));

        static bool IsProbeFailure(CapturedLog log) => log.Message.StartsWith("Health probe of server down", StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoHealthyDestination_Is503WithRetryAfter()
    {
        var deadEndpoint = new Uri($"http://127.0.0.1:{UpstreamPort.Free()}/mcp");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("down", [deadEndpoint], "healthCheck: { interval: '00:00:00.200', timeout: '00:00:01' }").ToString());
        await Eventually.TrueAsync(async () =>
            (await gateway.Http.GetStringAsync("/api/v1/services/down", Ct)).Contains("\"activeHealth\":\"unhealthy\"", StringComparison.Ordinal));

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/down", RawMcp.CallTool("echo", id: 5)), Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, JsonRpcErrorCodes.UpstreamUnavailable, id: "5");
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task UpstreamSilentBeforeAnswering_Is504()
    {
        await using var silent = await SilentUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("slow", [silent.Endpoint], RoutesYaml.NoProbes, "timeouts: { activity: '00:00:01' }").ToString());

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/slow", RawMcp.CallTool("echo", id: 9)), Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.GatewayTimeout, JsonRpcErrorCodes.UpstreamTimeout, id: "9");
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

    [Fact]
    public async Task StaticAuthorization_OnAServerWithoutUpstreamAuth_ReachesTheUpstream_InsteadOfTheCallers()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, "headers:", "  Authorization: 'Bearer upstream-static-key'").ToString());

        using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Add("Authorization", "Bearer callers-own");
        using var response = await gateway.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = Assert.Single(upstream.Posts).Headers;
        Assert.Equal("Bearer upstream-static-key", forwarded["Authorization"]);

        // YARP's own defaults, which the gateway now adds itself, still apply: the destination's Host and X-Forwarded-*.
        Assert.Equal(upstream.Endpoint.Authority, forwarded["Host"]);
        Assert.Equal("127.0.0.1", forwarded["X-Forwarded-For"]);
        Assert.Equal(gateway.BaseAddress.Authority, forwarded["X-Forwarded-Host"]);
    }
}
