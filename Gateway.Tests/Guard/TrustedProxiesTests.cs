using System.Net;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Guard;

/// <summary>
/// X-Forwarded-For counts only from <c>gateway.trustedProxies</c>: then the caller is the client it names (its own
/// anonymous rate-limit bucket, the upstream's X-Forwarded-For); from anyone else it is ignored. X-Real-IP, which a
/// client can write as it likes, never reaches the upstream.
/// </summary>
public sealed class TrustedProxiesTests
{
    private const string OneRequestPerMinute = "rateLimit: { requestsPerMinute: 1, burst: 1 }";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FromATrustedProxy_EachForwardedClientIsACallerOfItsOwn_AndTheUpstreamLearnsWhichOne()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, RoutesYaml.NoProbes, OneRequestPerMinute)
            .Gateway("trustedProxies: ['127.0.0.0/8', '::1']").ToString());

        Assert.Equal(HttpStatusCode.OK, await SendAsync(gateway, forwardedFor: "203.0.113.7"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(gateway, forwardedFor: "203.0.113.8"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(gateway, forwardedFor: "203.0.113.7"));

        var forwarded = upstream.Posts.Select(p => p.Headers["X-Forwarded-For"]).ToList();
        Assert.Equal(["203.0.113.7", "203.0.113.8"], forwarded);
        Assert.All(upstream.Posts, p => Assert.False(p.Headers.ContainsKey("X-Real-IP") || p.Headers.ContainsKey("X-Original-For") || p.Headers.ContainsKey("X-Original-Proto")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("trustedProxies: ['10.0.0.0/8']")]
    public async Task FromAnyoneElse_ForwardedForIsIgnored_AndNotPassedOn(string? gatewayLine)
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, RoutesYaml.NoProbes, OneRequestPerMinute).Gateway(gatewayLine is null ? [] : [gatewayLine]).ToString());

        Assert.Equal(HttpStatusCode.OK, await SendAsync(gateway, forwardedFor: "203.0.113.7"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(gateway, forwardedFor: "203.0.113.8"));

        var post = Assert.Single(upstream.Posts);
        Assert.DoesNotContain("203.0.113", post.Headers["X-Forwarded-For"], StringComparison.Ordinal);
        Assert.False(post.Headers.ContainsKey("X-Real-IP"));
    }

    private static async Task<HttpStatusCode> SendAsync(TestGateway gateway, string forwardedFor)
    {
        using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        request.Headers.Add("X-Real-IP", forwardedFor);
        using var response = await gateway.Http.SendAsync(request, Ct);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            await RawMcp.AssertErrorAsync(response, HttpStatusCode.TooManyRequests, JsonRpcErrorCodes.RateLimited, id: "1");
        }

        return response.StatusCode;
    }
}
