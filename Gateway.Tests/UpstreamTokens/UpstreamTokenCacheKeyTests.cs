using System.Security.Claims;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.UpstreamTokens;

namespace Gateway.Tests.UpstreamTokens;

/// <summary>The token cache's key: who the token is for and what it may do, hashed; never the caller's token.</summary>
public sealed class UpstreamTokenCacheKeyTests
{
    private const string Issuer = "https://sso.example.com/realms/mcp";

    [Fact]
    public void SameUserAndTarget_SameKey_WhateverTheScopeOrderAndTheCallersToken()
    {
        var first = UpstreamTokenCache.KeyOf(Request("alice", ["tools:read", "tools:call"], subjectToken: "token-1"));
        var second = UpstreamTokenCache.KeyOf(Request("alice", ["tools:call", "tools:read"], subjectToken: "token-2"));

        Assert.Equal(first, second);
        Assert.DoesNotContain("token-1", first, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", first, StringComparison.Ordinal);
    }

    [Fact]
    public void AnythingThatChangesWhatTheTokenIs_ChangesTheKey()
    {
        string[] keys =
        [
            UpstreamTokenCache.KeyOf(Request("alice", ["tools:call"])),
            UpstreamTokenCache.KeyOf(Request("bob", ["tools:call"])),
            UpstreamTokenCache.KeyOf(Request("alice", ["tools:call"], issuer: "https://other.example.com/realms/mcp")),
            UpstreamTokenCache.KeyOf(Request("alice", ["tools:call"], audience: "upstream-b")),
            UpstreamTokenCache.KeyOf(Request("alice", ["tools:read"])),
            UpstreamTokenCache.KeyOf(Request("alice", ["tools:call"], server: "other")),
            UpstreamTokenCache.KeyOf(Request("alice", ["tools:call"], callerClient: "another-app")),
        ];

        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void ClientCredentials_IsOneKeyForAllCallers()
    {
        var alice = UpstreamTokenCache.KeyOf(Request("alice", [], strategy: UpstreamAuthStrategy.ClientCredentials));
        var bob = UpstreamTokenCache.KeyOf(Request("bob", [], strategy: UpstreamAuthStrategy.ClientCredentials));

        Assert.Equal(alice, bob);
    }

    private static UpstreamTokenRequest Request(
        string subject, string[] scopes, string? subjectToken = "token", string issuer = Issuer, string audience = "upstream-a",
        string server = "demo", string callerClient = "mcp-client", UpstreamAuthStrategy strategy = UpstreamAuthStrategy.TokenExchange)
    {
        var identity = new ClaimsIdentity([new Claim("sub", subject, null, issuer), new Claim("azp", callerClient, null, issuer)], "Bearer");
        var options = new UpstreamAuthOptions { Strategy = strategy, ClientId = "mcp-gateway", Audience = audience, Scopes = [.. scopes] };
        var user = new ClaimsPrincipal(identity);
        return new UpstreamTokenRequest(server, options, user, McpCaller.Of(user), subjectToken);
    }
}
