using System.Net;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Resilience;

/// <summary>A request that may have reached an upstream is never sent again; one that never left may go elsewhere once.</summary>
public sealed class NoReplayTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UpstreamResettingMidToolsCall_GetsExactlyOneAttempt_AndTheCallerA502()
    {
        using var resetting = new ResettingUpstream();
        await using var healthy = await TestUpstream.StartAsync("b");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", [resetting.Endpoint, ByHostName(healthy.Endpoint)], RoutesYaml.NoProbes, "loadBalancing: FirstAlphabetical").ToString());

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami")), Ct);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.BadGateway, JsonRpcErrorCodes.UpstreamUnavailable, id: "2");
        Assert.Equal(1, resetting.Requests);
        Assert.DoesNotContain(healthy.Posts, p => p.Body.Contains("whoami", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConnectionRefused_TheNeverSentRequest_GoesOnceToAnotherDestination()
    {
        await using var healthy = await TestUpstream.StartAsync("b");
        var dead = new Uri($"http://127.0.0.1:{UpstreamPort.Free()}/mcp");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", [dead, ByHostName(healthy.Endpoint)], RoutesYaml.NoProbes, "loadBalancing: FirstAlphabetical").ToString());

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.Initialize), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(healthy.Posts);
        Assert.Contains(gateway.Logs.Entries, e => e.Message.Contains("goes to another destination", StringComparison.Ordinal));
    }

    /// <summary>
    /// The same endpoint named by <c>localhost</c>, which sorts after <c>127.0.0.1</c>: FirstAlphabetical then always
    /// tries the other destination first.
    /// </summary>
    private static Uri ByHostName(Uri endpoint) => new UriBuilder(endpoint) { Host = "localhost" }.Uri;
}
