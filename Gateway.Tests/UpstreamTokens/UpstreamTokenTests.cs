using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using StackExchange.Redis;

namespace Gateway.Tests.UpstreamTokens;

/// <summary>What each upstream receives: a token meant for it (RFC 8693, client credentials), never the caller's; and the token cache.</summary>
public sealed class UpstreamTokenTests(RedisServer redis) : IAsyncLifetime
{
    private TestIdentityProvider _idp = null!;
    private TestUpstream _upstream = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _idp = await TestIdentityProvider.StartAsync();
        _upstream = await TestUpstream.StartAsync("upstream-a", trustedIssuer: _idp.Issuer);
    }

    public async ValueTask DisposeAsync()
    {
        await _upstream.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    public async Task TokenExchange_UpstreamGetsATokenForItself_ForTheUser_NeverTheCallersToken()
    {
        await using var gateway = await StartGatewayAsync();
        var callerToken = await UserTokenAsync("alice");

        await using (var client = await gateway.ConnectAsync("demo", accessToken: callerToken))
        {
            await client.ListToolsAsync(cancellationToken: Ct);
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        var seen = UpstreamTokens();
        Assert.NotEmpty(seen);
        Assert.All(seen, token =>
        {
            Assert.NotEqual(callerToken, token.EncodedToken);
            Assert.Equal(["upstream-a"], token.Audiences);
            Assert.Equal("alice", token.Subject);
            Assert.Equal(_idp.Issuer.ToString(), token.Issuer);
        });
        Assert.DoesNotContain(_upstream.Requests, r => r.Headers.Values.Any(v => v.Contains(callerToken, StringComparison.Ordinal)));

        // Every request of the session went out with one exchanged token: the cache answered after the first.
        var exchange = Assert.Single(_idp.Exchanges);
        Assert.Equal(new RecordedExchange("alice", "upstream-a", TestIdentityProvider.GatewayClientId), exchange);
        Assert.DoesNotContain(gateway.Logs.Entries, e => e.Message.Contains(callerToken, StringComparison.Ordinal) || e.Message.Contains(seen[0].EncodedToken, StringComparison.Ordinal));

        // The cache's answers and the IdP's time are measured.
        string[] expected =
        [
            "mcp_gateway_upstream_token_result=\"issued\"", "mcp_gateway_upstream_token_result=\"hit\"",
            "mcp_gateway_upstream_token_acquisition_duration_seconds_count{",
        ];
        await Eventually.TrueAsync(async () =>
        {
            var metrics = await gateway.Http.GetStringAsync("/metrics", Ct);
            return expected.All(e => metrics.Contains(e, StringComparison.Ordinal));
        });
    }

    [Fact]
    public async Task ConcurrentFirstRequests_OfOneUser_MakeOneExchange()
    {
        await using var gateway = await StartGatewayAsync();
        var token = await UserTokenAsync("alice");

        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), token), Ct);
            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Single(_idp.Exchanges);
    }

    [Fact]
    public async Task TwoUsers_WithTheSameScopes_NeverGetEachOthersToken()
    {
        await using var gateway = await StartGatewayAsync();
        var alice = await UserTokenAsync("alice");
        var bob = await UserTokenAsync("bob");

        foreach (var (user, token) in new[] { ("alice", alice), ("bob", bob), ("alice", alice), ("bob", bob) })
        {
            _upstream.Requests.Clear();
            await using var client = await gateway.ConnectAsync("demo", accessToken: token);
            await client.CallToolAsync("whoami", cancellationToken: Ct);
            Assert.All(UpstreamTokens(), t => Assert.Equal(user, t.Subject));
        }

        Assert.Equal(["alice", "bob"], _idp.Exchanges.Select(e => e.Subject).Order());
    }

    [Fact]
    public async Task SessionOfAnotherUser_Is404_AndNotForwarded()
    {
        await using var gateway = await StartGatewayAsync();
        var alice = await UserTokenAsync("alice");
        var bob = await UserTokenAsync("bob");
        string sessionId;
        using (var initialize = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), alice), Ct))
        {
            sessionId = Assert.Single(initialize.Headers.GetValues("Mcp-Session-Id"));
        }

        var forwarded = _upstream.Requests.Count;
        using var response = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami"), sessionId), bob), Ct);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.SessionNotFound, id: "2");
        Assert.Equal(forwarded, _upstream.Requests.Count);
    }

    [Fact]
    public async Task SessionOfTheSameUserInAnotherApplication_Is404_AndNotForwarded()
    {
        await using var gateway = await StartGatewayAsync();
        var inClient = await UserTokenAsync("alice");
        var inOtherApp = await _idp.IssueUserTokenForClientAsync(TestIdentityProvider.OtherPublicClientId, "alice", "mcp-gateway");
        string sessionId;
        using (var initialize = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), inClient), Ct))
        {
            sessionId = Assert.Single(initialize.Headers.GetValues("Mcp-Session-Id"));
        }

        var forwarded = _upstream.Requests.Count;
        using var response = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami"), sessionId), inOtherApp), Ct);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.SessionNotFound, id: "2");
        Assert.Equal(forwarded, _upstream.Requests.Count);
        using var own = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami"), sessionId), inClient), Ct);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task CachedToken_IsNotUsedPastTheCallersTokenExpiry()
    {
        await using var gateway = await StartGatewayAsync();
        var shortLived = await ShortLivedUserTokenAsync("alice");
        await InitializeThenOutliveAsync(gateway, shortLived, shortLived);
        var forwarded = _upstream.Requests.Count;

        // Still inside the gateway's clock skew, so the caller is let in; but the exchanged token must not outlive
        // the caller's, so the gateway asks the IdP again, which refuses the expired subject token.
        using var second = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), shortLived), Ct);

        await RawMcp.AssertErrorAsync(second, HttpStatusCode.BadGateway, JsonRpcErrorCodes.UpstreamTokenUnavailable, id: "1");
        Assert.Single(_idp.Exchanges);
        Assert.Equal(forwarded, _upstream.Requests.Count);
    }

    [Fact]
    public async Task CachedToken_OfAnotherTokenOfTheSameUser_IsNotUsedPastThisTokensExpiry()
    {
        await using var gateway = await StartGatewayAsync();
        var longLived = await UserTokenAsync("alice");
        var shortLived = await ShortLivedUserTokenAsync("alice");
        await InitializeThenOutliveAsync(gateway, longLived, shortLived);
        var exchanges = _idp.Exchanges.Count;
        var forwarded = _upstream.Posts.Count;

        // The entry (from the long-lived token) is still fresh, but this caller's token has expired: the IdP decides,
        // and refuses the expired subject token.
        using (var expired = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), shortLived), Ct))
        {
            await RawMcp.AssertErrorAsync(expired, HttpStatusCode.BadGateway, JsonRpcErrorCodes.UpstreamTokenUnavailable, id: "1");
        }

        Assert.Contains(gateway.Logs.Entries, e => e.Message.Contains("identity provider refused a token", StringComparison.Ordinal));
        Assert.Equal(forwarded, _upstream.Posts.Count);

        // The refusal is this token's alone: the entry still serves the long-lived one, without a new exchange.
        using var again = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), longLived), Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(exchanges, _idp.Exchanges.Count);
    }

    [Fact]
    public async Task ExchangeRefused_Is502_WithAJsonRpcError_AndNothingForwarded()
    {
        // The realm has no client "upstream-x": the IdP refuses the exchange (invalid_target).
        await using var gateway = await StartGatewayAsync(audience: "upstream-x");
        var token = await UserTokenAsync("alice");

        using var response = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), token), Ct);

        var message = await RawMcp.AssertErrorAsync(response, HttpStatusCode.BadGateway, JsonRpcErrorCodes.UpstreamTokenUnavailable, id: "1");
        Assert.Contains("refused", message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);

        // The refusal is remembered briefly (failureLifetime, 5 s): a retry at once does not ask the IdP again.
        var asked = _idp.TokenRequests;
        using var retry = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), token), Ct);
        Assert.Equal(HttpStatusCode.BadGateway, retry.StatusCode);
        Assert.Equal(asked, _idp.TokenRequests);
    }

    [Fact]
    public async Task IdentityProviderDown_Is503_WithRetryAfter_WhileCachedUsersKeepWorking()
    {
        await using var gateway = await StartGatewayAsync();
        var alice = await UserTokenAsync("alice");
        var bob = await UserTokenAsync("bob");
        await using var aliceClient = await gateway.ConnectAsync("demo", accessToken: alice);

        await _idp.DisposeAsync();
        // POSTs only: the SDK client opens its standalone GET stream in the background, at a time of its choosing.
        var forwarded = _upstream.Posts.Count;
        using var response = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), bob), Ct);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, JsonRpcErrorCodes.UpstreamTokenUnavailable, id: "1");
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(forwarded, _upstream.Posts.Count);
        Assert.NotNull(await aliceClient.CallToolAsync("whoami", cancellationToken: Ct));
    }

    [Fact]
    public async Task CacheHit_AcrossTwoGateways_SharingRedis_AndRedisHoldsNoReadableToken()
    {
        var keys = TempDirectory.Create();
        await using var first = await StartGatewayAsync(keysDirectory: keys, redis: redis.ConnectionString);
        await using var second = await StartGatewayAsync(keysDirectory: keys, redis: redis.ConnectionString);
        var token = await _idp.IssueUserTokenAsync("alice", "mcp-gateway");

        await using (var client = await first.ConnectAsync("demo", accessToken: token))
        {
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        await using (var client = await second.ConnectAsync("demo", accessToken: token))
        {
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        Assert.Single(_idp.Exchanges);
        var upstreamToken = Assert.Single(UpstreamTokens().Select(t => t.EncodedToken).Distinct());
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var entries = server.Keys(pattern: "*upstream-token*").ToList();
        Assert.NotEmpty(entries);
        foreach (var key in entries)
        {
            var value = (byte[])(await connection.GetDatabase().HashGetAsync(key, "data"))!;
            var text = System.Text.Encoding.Latin1.GetString(value);
            Assert.DoesNotContain(upstreamToken.Split('.')[1], text, StringComparison.Ordinal);
            Assert.DoesNotContain("alice", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RedisStoppedMidTest_TheGatewayKeepsServingFromMemory_AndSaysSo()
    {
        var ownRedis = new RedisServer();
        await ownRedis.InitializeAsync();
        await using var gateway = await StartGatewayAsync(redis: ownRedis.ConnectionString);
        var meters = gateway.Services.GetRequiredService<IMeterFactory>();
        long l2Failures = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == "gateway.token_cache.l2_failures")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref l2Failures, value));
        listener.Start();
        string[] others = ["bob", "carol", "dave"];
        var tokens = new Dictionary<string, string>();
        foreach (var user in others.Prepend("alice"))
        {
            tokens[user] = await UserTokenAsync(user);
        }

        await using var aliceClient = await gateway.ConnectAsync("demo", accessToken: tokens["alice"]);
        await aliceClient.CallToolAsync("whoami", cancellationToken: Ct);

        await ownRedis.DisposeAsync();

        // Alice's token is still in memory; the others' are fetched and kept in memory only.
        for (var call = 0; call < 3; call++)
        {
            await aliceClient.CallToolAsync("whoami", cancellationToken: Ct);
        }

        foreach (var user in others)
        {
            await using var client = await gateway.ConnectAsync("demo", accessToken: tokens[user]);
            await client.CallToolAsync("whoami", cancellationToken: Ct);
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        Assert.Equal(["alice", "bob", "carol", "dave"], _idp.Exchanges.Select(e => e.Subject).Order());
        Assert.Contains(gateway.Logs.Entries, e => e.Message.Contains("Token cache: Redis is unreachable", StringComparison.Ordinal));
        Assert.True(Interlocked.Read(ref l2Failures) > 0);
        using var ready = await gateway.Http.GetAsync("/health/ready", Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Degraded\ntoken-cache: Degraded - Redis token cache unreachable; tokens are cached in memory only.", await ready.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ClientCredentials_UpstreamGetsTheGatewaysOwnIdentity()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", _upstream, [RoutesYaml.NoProbes, "auth:", "  required: false", .. _idp.UpstreamAuth("client-credentials", "upstream-a")])
            .Gateway(_idp.GatewayAuth()).ToString());

        await using (var client = await gateway.ConnectAsync("demo"))
        {
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        Assert.All(UpstreamTokens(), t =>
        {
            Assert.Equal(TestIdentityProvider.GatewayClientId, t.Subject);
            Assert.Equal(["upstream-a"], t.Audiences);
        });
    }

    [Fact]
    public async Task Passthrough_ForwardsTheCallersToken_AndIsLoggedAsAWarning()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", _upstream, RoutesYaml.NoProbes, "auth:", "  audience: upstream-a", "upstreamAuth:", "  strategy: passthrough")
            .Gateway(_idp.GatewayAuth()).ToString());
        var token = await _idp.IssueUserTokenAsync("alice", "upstream-a");

        await using (var client = await gateway.ConnectAsync("demo", accessToken: token))
        {
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        Assert.All(UpstreamTokens(), t => Assert.Equal(token, t.EncodedToken));
        Assert.Contains(gateway.Logs.Entries, e => e.Message.Contains("passthrough", StringComparison.OrdinalIgnoreCase) && e.Message.Contains("demo", StringComparison.Ordinal));
    }

    private Task<TestGateway> StartGatewayAsync(string audience = "upstream-a", string? keysDirectory = null, string? redis = null)
    {
        var routes = new RoutesYaml(keysDirectory)
            .Server("demo", _upstream, [RoutesYaml.NoProbes, .. _idp.UpstreamAuth("token-exchange", audience)])
            .Gateway(_idp.GatewayAuth("audience: mcp-gateway"));
        if (redis is not null)
        {
            routes.Gateway("tokenCache:", $"  redis: '{redis}'");
        }

        return TestGateway.StartAsync(routes.ToString());
    }

    private Task<string> UserTokenAsync(string user) => _idp.IssueUserTokenAsync(user, "mcp-gateway");

    /// <summary>A token of <paramref name="user"/> that expires in 5 s.</summary>
    private async Task<string> ShortLivedUserTokenAsync(string user)
    {
        var usual = _idp.AccessTokenLifetime;
        _idp.AccessTokenLifetime = TimeSpan.FromSeconds(5);
        try
        {
            return await UserTokenAsync(user);
        }
        finally
        {
            _idp.AccessTokenLifetime = usual;
        }
    }

    /// <summary>Initializes with <paramref name="token"/> (so its upstream token is cached), then waits until <paramref name="shortLived"/> has expired.</summary>
    private static async Task InitializeThenOutliveAsync(TestGateway gateway, string token, string shortLived)
    {
        using (var first = await gateway.Http.SendAsync(WithToken(RawMcp.Post("/mcp/demo", RawMcp.Initialize), token), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var left = new JsonWebToken(shortLived).ValidTo - DateTime.UtcNow + TimeSpan.FromSeconds(1);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, Ct);
        }
    }

    /// <summary>The bearer tokens the upstream received, decoded.</summary>
    private List<JsonWebToken> UpstreamTokens() =>
        [.. _upstream.Requests.Select(r => new JsonWebToken(Assert.Contains("Authorization", r.Headers)["Bearer ".Length..]))];

    private static HttpRequestMessage WithToken(HttpRequestMessage request, string token)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }
}
