using System.Net;
using System.Net.Http.Json;
using Gateway.Proxy.Api;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Configuration;
using Microsoft.Extensions.DependencyInjection;

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
            return ready.StartsWith("Degraded\nroutes: Degraded - The routes file holds an edit that was refused", StringComparison.Ordinal);
        });
        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/one", RawMcp.Initialize), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var services = await gateway.Http.GetFromJsonAsync<List<ServiceInfo>>("/api/v1/services", Ct);
        Assert.Equal("one", Assert.Single(services!).Name);
    }

    [Fact]
    public async Task EditWithADuplicateKey_IsRefused_NamingTheKeyAndItsLines()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("one", upstream).ToString());

        await File.WriteAllTextAsync(gateway.RoutesPath, $"servers:\n  one:\n    destinations: [{{ url: '{upstream.Endpoint}' }}]\n  one: {{}}\n", Ct);

        await Eventually.TrueAsync(async () => (await gateway.Http.GetStringAsync("/health/ready", Ct))
            .Contains("servers.one: given twice, at line 2 and line 4. Keep one.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EditOfAStartupKey_IsLoggedAsNeedingARestart_AndTheRestOfTheEditApplies()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        var keys = TempDirectory.Create();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml(keys).Server("one", upstream).ToString());

        await File.WriteAllTextAsync(
            gateway.RoutesPath, new RoutesYaml(keys).Server("one", upstream).Server("two", upstream).Gateway("sessions: { lifetime: 1h }").ToString(), Ct);

        await Eventually.TrueAsync(async () =>
        {
            using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/two", RawMcp.Initialize), Ct);
            return response.StatusCode == HttpStatusCode.OK;
        });
        var warning = Assert.Single(gateway.Logs.Entries, e => e.Message.Contains("read at start-up only", StringComparison.Ordinal));
        Assert.StartsWith("gateway.sessions.lifetime changed in", warning.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromDays(1), gateway.Services.GetRequiredService<RoutesConfigStore>().Startup.Sessions.Lifetime);
        Assert.Equal("Healthy", await gateway.Http.GetStringAsync("/health/ready", Ct));
    }

    [Fact]
    public async Task EditThatNeedsAStartupSettingNotInForce_IsRefused()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        var keys = TempDirectory.Create();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml(keys).Server("one", upstream).ToString());

        // Scopes on a server with an issuer added in the same edit: the issuer would only be trusted after a
        // restart, so until then the server would be open to anyone. The edit is refused as a whole.
        await File.WriteAllTextAsync(gateway.RoutesPath, new RoutesYaml(keys)
            .Server("one", upstream, "auth: { scopes: [tools:call] }")
            .Gateway("auth: { authority: 'https://sso.example.com/realms/mcp' }").ToString(), Ct);

        await Eventually.TrueAsync(async () => (await gateway.Http.GetStringAsync("/health/ready", Ct)).StartsWith("Degraded\nroutes:", StringComparison.Ordinal));
        Assert.Contains(gateway.Logs.Entries, e => e.Message.Contains("servers.one.auth: tokens are required but no issuer is trusted", StringComparison.Ordinal));
        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/one", RawMcp.Initialize), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
