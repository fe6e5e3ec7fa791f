using System.Net;
using System.Net.Http.Json;
using Gateway.Proxy.Api;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxy;

public sealed class HealthAndServicesApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LiveAndReady_AreHealthy()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream).ToString());

        Assert.Equal("Healthy", await gateway.Http.GetStringAsync("/health/live", Ct));
        Assert.Equal("Healthy", await gateway.Http.GetStringAsync("/health/ready", Ct));
    }

    [Fact]
    public async Task Services_ListsEachServerWithPathAndDestinations()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream).Server("other", upstream).ToString());

        var services = await gateway.Http.GetFromJsonAsync<List<ServiceInfo>>("/api/v1/services", Ct);
        Assert.Equal(["demo", "other"], services!.Select(s => s.Name).Order());
        var demo = services!.Single(s => s.Name == "demo");
        Assert.Equal("/mcp/demo", demo.Path);
        Assert.Equal("http", demo.Transport);
        Assert.Equal(upstream.Endpoint.ToString(), Assert.Single(demo.Destinations).Url);

        var one = await gateway.Http.GetFromJsonAsync<ServiceInfo>("/api/v1/services/demo", Ct);
        Assert.Equal("demo", one!.Name);

        using var unknown = await gateway.Http.GetAsync("/api/v1/services/nope", Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ServiceHealth_ProbesWithARealMcpHandshake()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream, RoutesYaml.NoProbes).ToString());

        using var response = await gateway.Http.GetAsync("/api/v1/services/demo/health", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<ServiceHealth>(Ct);
        Assert.Equal("healthy", health!.Status);
        var probe = Assert.Single(health.Destinations);
        Assert.True(probe.Healthy);
        Assert.Equal("test-upstream", probe.ServerName);
        Assert.NotNull(probe.ProtocolVersion);

        // The probe really spoke MCP to the upstream, and ended its session.
        Assert.Contains(upstream.Posts, p => p.Body.Contains("\"ping\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServiceHealth_OfDeadUpstream_Is503WithTheError()
    {
        var deadEndpoint = new Uri($"http://127.0.0.1:{UpstreamPort.Free()}/mcp");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", [deadEndpoint], RoutesYaml.NoProbes).ToString());

        using var response = await gateway.Http.GetAsync("/api/v1/services/demo/health", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<ServiceHealth>(Ct);
        Assert.Equal("unhealthy", health!.Status);
        Assert.False(string.IsNullOrEmpty(Assert.Single(health.Destinations).Error));
    }
}
