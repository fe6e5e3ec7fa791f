using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Tests.InboundAuth;

/// <summary>The realm export of <c>deploy/keycloak</c> does what the README says, against a real Keycloak.</summary>
public sealed class KeycloakTests(KeycloakServer keycloak) : IClassFixture<KeycloakServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TokenExchange_WithTheRealmExport_GivesTheUpstreamATokenForItself_ForTheUser()
    {
        Assert.SkipWhen(keycloak.UnavailableReason is not null, keycloak.UnavailableReason ?? string.Empty);
        await using var upstream = await TestUpstream.StartAsync("upstream-a", trustedIssuer: keycloak.Issuer);
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream,
            [
                RoutesYaml.NoProbes, "auth:", "  scopes: [tools:call]",
                "upstreamAuth:", "  strategy: token-exchange", $"  tokenEndpoint: '{keycloak.TokenEndpoint}'", "  clientId: mcp-gateway",
                $"  clientSecret: {KeycloakServer.GatewayClientSecret}", "  audience: upstream-a",
            ])
            .Gateway("auth:", $"  authority: '{keycloak.Issuer}'", "  requireHttpsMetadata: false", "  audience: mcp-gateway").ToString());
        var callerToken = await PasswordGrantAsync("alice", "alice", "openid tools:call");

        await using (var client = await gateway.ConnectAsync("demo", accessToken: callerToken))
        {
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        Assert.All(upstream.Requests, r =>
        {
            var token = new JsonWebToken(r.Headers["Authorization"]["Bearer ".Length..]);
            Assert.NotEqual(callerToken, token.EncodedToken);
            Assert.Contains("upstream-a", token.Audiences);
            Assert.Equal("alice", token.GetClaim("preferred_username").Value);
        });
    }

    private async Task<string> PasswordGrantAsync(string user, string password, string scope)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(keycloak.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = "mcp-client",
            ["username"] = user,
            ["password"] = password,
            ["scope"] = scope,
        }), Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("access_token").GetString()!;
    }
}
