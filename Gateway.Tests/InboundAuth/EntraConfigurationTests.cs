using System.Net;
using System.Text.Json;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.InboundAuth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.InboundAuth;

/// <summary>
/// Entra ID through Microsoft.Identity.Web: the gateway starts with it and describes it. Entra itself is not reachable
/// from the test machine, so token validation and OBO are exercised with the OIDC authority instead.
/// </summary>
public sealed class EntraConfigurationTests
{
    private const string TenantId = "7d3a1c55-2f0e-4b8e-9a55-3f4c1f0e2b11";

    [Fact]
    public async Task GatewayWithEntra_Starts_AdvertisesTheTenantIssuer_AndChallengesCallersWithoutAToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("crm", upstream, RoutesYaml.NoProbes, "auth:", "  scopes: [mcp.call]", "upstreamAuth:", "  strategy: obo", "  scopes: ['api://crm-mcp/.default']")
            .Gateway("auth:", "  entra:", $"    tenantId: {TenantId}", "    clientId: 0b7c6f2e-1111-4c3d-8e9f-222233334444", "    clientSecret: not-a-real-secret")
            .ToString());

        using var metadataResponse = await gateway.Http.GetAsync("/.well-known/oauth-protected-resource/mcp/crm", ct);
        var metadata = JsonDocument.Parse(await metadataResponse.Content.ReadAsStringAsync(ct)).RootElement;
        using var unauthenticated = await gateway.Http.SendAsync(RawMcp.Post("/mcp/crm", RawMcp.Initialize), ct);

        Assert.Equal($"https://login.microsoftonline.com/{TenantId}/v2.0", Assert.Single(metadata.GetProperty("authorization_servers").EnumerateArray()).GetString());
        await RawMcp.AssertErrorAsync(unauthenticated, HttpStatusCode.Unauthorized, JsonRpcErrorCodes.Unauthorized);
        Assert.Contains("scope=\"mcp.call\"", Assert.Single(unauthenticated.Headers.WwwAuthenticate).Parameter, StringComparison.Ordinal);
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task GatewayWithEntra_FetchesTheTenantsRotatedKeys_AsForAnyIssuer()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("crm", upstream, RoutesYaml.NoProbes)
            .Gateway("auth:", "  entra:", $"    tenantId: {TenantId}", "    clientId: 0b7c6f2e-1111-4c3d-8e9f-222233334444")
            .ToString());

        var options = gateway.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);

        var keys = Assert.IsType<IssuerConfigurationManager>(options.ConfigurationManager);
        Assert.Equal($"https://login.microsoftonline.com/{TenantId}/v2.0/.well-known/openid-configuration", keys.MetadataAddress);
        Assert.Equal(TimeSpan.FromMinutes(1), keys.RefreshInterval);
    }
}
