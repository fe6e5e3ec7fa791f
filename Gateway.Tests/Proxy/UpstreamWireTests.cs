using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>How requests reach an upstream on the wire.</summary>
public sealed class UpstreamWireTests : IDisposable
{
    private readonly WireUpstream _upstream = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _upstream.Dispose();

    [Fact]
    public async Task SmallPost_ReachesTheUpstream_HeadersAndBodyInOneWrite()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", [_upstream.Endpoint], RoutesYaml.NoProbes).ToString());
        var call = RawMcp.CallTool("echo", arguments: """{"message":"one write"}""");

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", call), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Assert.Single(_upstream.Requests);
        Assert.Equal(call, request.Body);
        Assert.SkipWhen(request.DataSegments is null, "Counting TCP segments needs Linux's TCP_INFO.");
        Assert.Equal(1, request.DataSegments);
    }

    [Fact]
    public async Task LargePost_ReachesTheUpstream_Whole()
    {
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", [_upstream.Endpoint], RoutesYaml.NoProbes).ToString());
        var call = RawMcp.CallTool("echo", arguments: $$"""{"message":"{{new string('x', 200_000)}}"}""");

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", call), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(call, Assert.Single(_upstream.Requests).Body);
    }
}
