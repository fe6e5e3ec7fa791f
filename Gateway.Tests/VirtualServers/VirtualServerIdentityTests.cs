using System.Net;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.VirtualServers;

/// <summary>
/// Each member keeps its own identity machinery behind a virtual server: a token exchanged for its own audience
/// from the caller's token, and its own policy for the caller.
/// </summary>
public sealed class VirtualServerIdentityTests : IAsyncLifetime
{
    private TestIdentityProvider _idp = null!;
    private TestUpstream _alpha = null!;
    private TestUpstream _beta = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _idp = await TestIdentityProvider.StartAsync();
        _alpha = await TestUpstream.StartAsync("upstream-a", trustedIssuer: _idp.Issuer);
        _beta = await TestUpstream.StartAsync("upstream-b", trustedIssuer: _idp.Issuer);
    }

    public async ValueTask DisposeAsync()
    {
        await _alpha.DisposeAsync();
        await _beta.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    public async Task EachMember_GetsATokenForItsOwnAudience_ExchangedFromTheCallersToken()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", _alpha, [RoutesYaml.NoProbes, .. _idp.UpstreamAuth("token-exchange", "upstream-a")])
            .Server("beta", _beta, [RoutesYaml.NoProbes, .. _idp.UpstreamAuth("token-exchange", "upstream-b")])
            .VirtualServer("work", ["alpha", "beta"])
            .Gateway(_idp.GatewayAuth()).ToString());
        // A token for the virtual server alone: its audience is /mcp/work's resource URL, not a member's.
        var callerToken = await _idp.IssueUserTokenAsync("alice", gateway.McpEndpoint("work").ToString());

        await using (var client = await gateway.ConnectAsync("work", accessToken: callerToken))
        {
            var tools = (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
            Assert.Contains("alpha__whoami", tools);
            Assert.Contains("beta__whoami", tools);
            Assert.Equal("upstream-a", Text(await client.CallToolAsync("alpha__whoami", cancellationToken: Ct)));
            Assert.Equal("upstream-b", Text(await client.CallToolAsync("beta__whoami", cancellationToken: Ct)));
        }

        foreach (var (upstream, audience) in new[] { (_alpha, "upstream-a"), (_beta, "upstream-b") })
        {
            var seen = TokensSeenBy(upstream);
            Assert.NotEmpty(seen);
            Assert.All(seen, token =>
            {
                Assert.Equal([audience], token.Audiences);
                Assert.Equal("alice", token.Subject);
            });
            Assert.DoesNotContain(upstream.Requests, r => r.Headers.Values.Any(v => v.Contains(callerToken, StringComparison.Ordinal)));
        }

        Assert.Contains(new RecordedExchange("alice", "upstream-a", TestIdentityProvider.GatewayClientId), _idp.Exchanges);
        Assert.Contains(new RecordedExchange("alice", "upstream-b", TestIdentityProvider.GatewayClientId), _idp.Exchanges);
    }

    [Fact]
    public async Task TokenForAMember_IsNotOneForTheVirtualServer()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", _alpha, [RoutesYaml.NoProbes, .. _idp.UpstreamAuth("token-exchange", "upstream-a")])
            .VirtualServer("work", ["alpha"])
            .Gateway(_idp.GatewayAuth()).ToString());
        var memberToken = await _idp.IssueUserTokenAsync("alice", gateway.McpEndpoint("alpha").ToString());

        using var request = RawMcp.Post("/mcp/work", RawMcp.Initialize);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", memberToken);
        using var response = await gateway.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("resource_metadata=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Empty(_alpha.Requests);
    }

    [Fact]
    public async Task TokenForTheVirtualServer_IsNotOneForAMember_AndATicketHeaderFromOutsideIsIgnored()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", _alpha, [RoutesYaml.NoProbes, .. _idp.UpstreamAuth("token-exchange", "upstream-a")])
            .VirtualServer("work", ["alpha"])
            .Gateway(_idp.GatewayAuth()).ToString());
        var virtualToken = await _idp.IssueUserTokenAsync("alice", gateway.McpEndpoint("work").ToString());
        await using (var client = await gateway.ConnectAsync("work", accessToken: virtualToken))
        {
            await client.CallToolAsync("alpha__whoami", cancellationToken: Ct);
        }

        // Straight to the member's route, with the virtual server's token and a made-up ticket: the audience is wrong there.
        var before = _alpha.Requests.Count;
        using var request = RawMcp.Post("/mcp/alpha", RawMcp.Initialize);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", virtualToken);
        request.Headers.Add("X-Mcp-Gateway-Member-Call", new string('A', 64));
        using var response = await gateway.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(before, _alpha.Requests.Count);
    }

    [Fact]
    public async Task MembersPolicy_HidesItsToolsFromACallerWithoutTheRole()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var beta = await TestUpstream.StartAsync("beta");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .Server("beta", beta, RoutesYaml.NoProbes, "policy:", "  - { roles: [mcp-admin], tools: ['*'] }", "policyDefault: deny")
            .VirtualServer("work", ["alpha", "beta"])
            .Gateway(_idp.GatewayAuth()).ToString());
        var audience = gateway.McpEndpoint("work").ToString();
        var admin = _idp.Forge("alice", audience, d => d.Claims["roles"] = new List<string> { "mcp-user", "mcp-admin" });
        var user = _idp.Forge("bob", audience, d => d.Claims["roles"] = new List<string> { "mcp-user" });

        await using (var alice = await gateway.ConnectAsync("work", accessToken: admin))
        {
            Assert.Contains("beta__whoami", (await alice.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));
        }

        await using var bob = await gateway.ConnectAsync("work", accessToken: user);
        var tools = (await bob.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.Contains("alpha__whoami", tools);
        Assert.DoesNotContain(tools, t => t.StartsWith("beta__", StringComparison.Ordinal));
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => bob.CallToolAsync("beta__whoami", cancellationToken: Ct).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        Assert.DoesNotContain(beta.Posts, r => r.Body.Contains("whoami", StringComparison.Ordinal) && r.Body.Contains("tools/call", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SessionOfOneUser_IsRefusedToAnother()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"])
            .Gateway(_idp.GatewayAuth()).ToString());
        var audience = gateway.McpEndpoint("work").ToString();

        await using var alice = await gateway.ConnectAsync("work", accessToken: _idp.Forge("alice", audience));
        using var request = RawMcp.Post("/mcp/work", RawMcp.CallTool("alpha__whoami"), alice.SessionId);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _idp.Forge("bob", audience));
        using var response = await gateway.Http.SendAsync(request, Ct);

        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, -32001, id: "2");

        // Nor is it the same user's in another client application.
        using var other = RawMcp.Post("/mcp/work", RawMcp.CallTool("alpha__whoami"), alice.SessionId);
        other.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _idp.Forge("alice", audience, d => d.Claims["azp"] = "another-app"));
        using var otherResponse = await gateway.Http.SendAsync(other, Ct);
        await RawMcp.AssertErrorAsync(otherResponse, HttpStatusCode.NotFound, -32001, id: "2");
        Assert.DoesNotContain(alpha.Posts, p => p.Body.Contains("whoami", StringComparison.Ordinal));
    }

    private static string? Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    private static List<JsonWebToken> TokensSeenBy(TestUpstream upstream) =>
        [.. upstream.Requests.Select(r => r.Headers.GetValueOrDefault("Authorization")).OfType<string>().Select(h => new JsonWebToken(h["Bearer ".Length..]))];
}
