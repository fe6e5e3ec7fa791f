using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;

namespace Gateway.Tests.Api;

/// <summary><c>/api/v1/dashboard</c>: totals, per-server health and circuits; admins only when auth is on.</summary>
public sealed class DashboardApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Overview_AndServicesHealth_ReflectTheTraffic()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream, RoutesYaml.NoProbes).ToString());
        await using (var client = await gateway.ConnectAsync("demo"))
        {
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        await Eventually.TrueAsync(async () => (await GetJsonAsync(gateway, "/api/v1/dashboard/overview")).GetProperty("sessionsEnded").GetInt64() == 1);
        var overview = await GetJsonAsync(gateway, "/api/v1/dashboard/overview");
        var services = await GetJsonAsync(gateway, "/api/v1/dashboard/services/health");

        Assert.Equal(1, overview.GetProperty("servers").GetInt32());
        Assert.Equal(1, overview.GetProperty("destinations").GetInt32());
        Assert.Equal(1, overview.GetProperty("sessionsStarted").GetInt64());
        Assert.True(overview.GetProperty("requests").GetInt64() >= 4);
        Assert.Equal(0, overview.GetProperty("circuitsOpen").GetInt32());
        Assert.Equal(0, overview.GetProperty("toolsHeldBack").GetInt32());
        var demo = Assert.Single(services.EnumerateArray());
        Assert.Equal("demo", demo.GetProperty("name").GetString());
        Assert.Equal("/mcp/demo", demo.GetProperty("path").GetString());
        var destination = Assert.Single(demo.GetProperty("destinations").EnumerateArray());
        Assert.Equal(upstream.Endpoint.ToString(), destination.GetProperty("url").GetString());
        Assert.Equal("closed", destination.GetProperty("circuit").GetString());
    }

    [Fact]
    public async Task WithAuth_OnlyAdminsMayUseTheApi()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, RoutesYaml.NoProbes)
            .Gateway(idp.GatewayAuth("adminRoles: [gateway-operator]")).ToString());
        var user = idp.Forge("bob", "mcp-gateway", d => d.Claims["roles"] = new List<string> { "mcp-user" });
        var admin = idp.Forge("alice", "mcp-gateway", d => d.Claims["roles"] = new List<string> { "gateway-operator" });

        foreach (var path in new[] { "/api/v1/dashboard/overview", "/api/v1/dashboard/services/health", "/api/v1/services" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(gateway, path, token: null));
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(gateway, path, user));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, path, admin));
        }
    }

    private static async Task<JsonElement> GetJsonAsync(TestGateway gateway, string path) =>
        JsonDocument.Parse(await gateway.Http.GetStringAsync(path, Ct)).RootElement.Clone();

    private static async Task<HttpStatusCode> StatusAsync(TestGateway gateway, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await gateway.Http.SendAsync(request, Ct);
        return response.StatusCode;
    }
}
