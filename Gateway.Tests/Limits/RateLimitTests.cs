using System.Net;
using System.Net.Http.Headers;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;

namespace Gateway.Tests.Limits;

/// <summary>Per-caller limits per server and per tool, shared by replicas through Redis, local while Redis is away.</summary>
public sealed class RateLimitTests(RedisServer redis)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Limit_IsSharedByTwoGateways_ThroughRedis_And429CarriesRetryAfter()
    {
        var server = UniqueServerName();
        await using var upstream = await TestUpstream.StartAsync("a");
        var keys = TempDirectory.Create();
        var routes = new RoutesYaml(keys)
            .Server(server, upstream, RoutesYaml.NoProbes, "rateLimit: { requestsPerMinute: 3, burst: 3 }")
            .Gateway("rateLimiting:", $"  redis: '{redis.ConnectionString}'").ToString();
        await using var first = await TestGateway.StartAsync(routes);
        await using var second = await TestGateway.StartAsync(routes);

        var statuses = new List<HttpStatusCode>();
        foreach (var gateway in new[] { first, first, second, second, first })
        {
            using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/" + server, RawMcp.Initialize), Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await RawMcp.AssertErrorAsync(response, HttpStatusCode.TooManyRequests, JsonRpcErrorCodes.RateLimited, id: "1");
                Assert.InRange(response.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(3, upstream.Posts.Count);
    }

    [Fact]
    public async Task ToolLimit_AppliesToThatTool_ByTheBodysName()
    {
        var server = UniqueServerName();
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server(server, upstream, RoutesYaml.NoProbes, "rateLimit:", "  requestsPerMinute: 600", "  tools:", "    whoami: { requestsPerMinute: 1, burst: 1 }")
            .ToString());
        var sessionId = await RawMcp.InitializeAsync(gateway.Http, "/mcp/" + server);

        using var first = await gateway.Http.SendAsync(RawMcp.Post("/mcp/" + server, RawMcp.CallTool("whoami"), sessionId), Ct);
        using var second = await gateway.Http.SendAsync(RawMcp.Post("/mcp/" + server, RawMcp.CallTool("whoami", id: 3), sessionId), Ct);
        using var other = await gateway.Http.SendAsync(RawMcp.Post("/mcp/" + server, RawMcp.CallTool("echo", id: 4, arguments: """{"message":"hi"}"""), sessionId), Ct);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var message = await RawMcp.AssertErrorAsync(second, HttpStatusCode.TooManyRequests, JsonRpcErrorCodes.RateLimited, id: "3");
        Assert.Contains("whoami", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task EachCaller_HasABucketOfTheirOwn()
    {
        var server = UniqueServerName();
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server(server, upstream, RoutesYaml.NoProbes, "auth: { audience: mcp-gateway }", "rateLimit: { requestsPerMinute: 1, burst: 1 }")
            .Gateway(idp.GatewayAuth())
            .Gateway("rateLimiting:", $"  redis: '{redis.ConnectionString}'").ToString());
        var alice = await idp.IssueUserTokenAsync("alice", "mcp-gateway");
        var bob = await idp.IssueUserTokenAsync("bob", "mcp-gateway");

        var statuses = new List<HttpStatusCode>();
        foreach (var token in new[] { alice, alice, bob })
        {
            using var request = RawMcp.Post("/mcp/" + server, RawMcp.Initialize);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await gateway.Http.SendAsync(request, Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK], statuses);
    }

    [Fact]
    public async Task RedisStopped_LimitsStillHold_PerReplica_AndTheFallbackIsLogged()
    {
        var server = UniqueServerName();
        var ownRedis = new RedisServer();
        await ownRedis.InitializeAsync();
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server(server, upstream, RoutesYaml.NoProbes, "rateLimit: { requestsPerMinute: 2, burst: 2 }")
            .Gateway("rateLimiting:", $"  redis: '{ownRedis.ConnectionString}'").ToString());
        await ownRedis.DisposeAsync();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/" + server, RawMcp.Initialize), Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Contains(gateway.Logs.Entries, e => e.Message.StartsWith("Rate limits: Redis", StringComparison.Ordinal));
        Assert.Contains("mcp_gateway_rate_limit_local_decisions_total{", await gateway.Http.GetStringAsync("/metrics", Ct), StringComparison.Ordinal);
    }

    // Buckets live in the shared Redis: each test gets servers (and so buckets) of its own.
    private static string UniqueServerName() => "limited-" + Guid.NewGuid().ToString("N")[..12];
}
