using System.Net;
using System.Net.Http.Json;
using Gateway.Proxy.Api;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>Editing routes.yaml while the gateway runs: good edits apply, bad ones are refused and change nothing.</summary>
public sealed class RoutesReloadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ValidEdit_AddsServer_WithoutRestart()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        var keys = TempDirectory.Create();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml(keys).Server("one", upstream).ToString());

        await File.WriteAllTextAsync(gateway.RoutesPath, new RoutesYaml(keys).Server("one", upstream).Server("two", upstream).ToString(), Ct);

        await Eventually.TrueAsync(async () =>
        {
            using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/two", RawMcp.Initialize), Ct);
            return response.StatusCode == HttpStatusCode.OK;
        });
    }

    [Theory]
    [InlineData("servers:\n  one: [unclosed\n")]
    [InlineData("servers:\n  one:\n    destinations:\n      - url: nowhere\n")]
    [InlineData("servers: {}\n")]
    public async Task InvalidEdit_IsRefused_AndLastGoodRoutesStayInForce(string badEdit)
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("one", upstream).ToString());

        await File.WriteAllTextAsync(gateway.RoutesPath, badEdit, Ct);

        await Eventually.TrueAsync(async () =>
        {
            var ready = await gateway.Http.GetStringAsync("/health/ready", Ct);
            return ready == "Degraded";
        });
        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/one", RawMcp.Initialize), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var services = await gateway.Http.GetFromJsonAsync<List<ServiceInfo>>("/api/v1/services", Ct);
        Assert.Equal("one", Assert.Single(services!).Name);
    }
}
