using System.Diagnostics;
using System.Net;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Resilience;

/// <summary>A destination that keeps failing is left alone for a while, then probed, then used again.</summary>
public sealed class CircuitBreakerTests
{
    private const string Breaker = "circuitBreaker: { minimumThroughput: 3, failureRatio: 0.5, samplingDuration: '00:00:30', breakDuration: '00:00:02' }";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HttpUpstreamSendingTheBridgesBusyMarker_StillCountsItsFailures_AndTheMarkerIsDropped()
    {
        await using var broken = await StatusUpstream.StartAsync(StatusCodes.Status503ServiceUnavailable, UpstreamPort.Free(), "X-Stdio-Bridge-Busy: -31007");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", [broken.Endpoint], RoutesYaml.NoProbes, Breaker).ToString());

        for (var i = 0; i < 3; i++)
        {
            using var failed = await InitializeAsync(gateway, "demo");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
            Assert.False(failed.Headers.Contains("X-Stdio-Bridge-Busy"));
        }

        using var refused = await InitializeAsync(gateway, "demo");
        await RawMcp.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, JsonRpcErrorCodes.UpstreamCircuitOpen, id: "1");
        Assert.Equal(3, broken.Requests);
    }

    [Fact]
    public async Task FailingUpstream_OpensTheCircuit_FailsFastWithoutTraffic_ThenClosesAfterRecovery()
    {
        var port = UpstreamPort.Free();
        await using var healthy = await TestUpstream.StartAsync("other");
        var broken = await StatusUpstream.StartAsync(StatusCodes.Status500InternalServerError, port);
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", [broken.Endpoint], RoutesYaml.NoProbes, Breaker)
            .Server("other", healthy, RoutesYaml.NoProbes, Breaker).ToString());

        for (var i = 0; i < 3; i++)
        {
            using var failed = await InitializeAsync(gateway, "demo");
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        Assert.Equal(3, broken.Requests);
        long refusedAt;
        TimeSpan retryAfter;
        using (var refused = await InitializeAsync(gateway, "demo"))
        {
            refusedAt = Stopwatch.GetTimestamp();
            await RawMcp.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, JsonRpcErrorCodes.UpstreamCircuitOpen, id: "1");
            retryAfter = refused.Headers.RetryAfter!.Delta!.Value;
            Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        }

        Assert.Equal(3, broken.Requests);
        Assert.Contains(gateway.Logs.Entries, e => e.Message.Contains("Circuit of server demo", StringComparison.Ordinal) && e.Message.Contains("opened", StringComparison.Ordinal));
        Assert.Matches(@"mcp_gateway_circuit_state\{[^}]*mcp_gateway_server=""demo"",server_address=""http://127\.0\.0\.1:\d+/mcp""\} 2", await gateway.Http.GetStringAsync("/metrics", Ct));

        // Other servers are not affected.
        using (var other = await InitializeAsync(gateway, "other"))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        // The upstream recovers; after the break one probe goes through, and its success closes the circuit.
        await broken.DisposeAsync();
        await using var recovered = await TestUpstream.StartAsync("demo", port: port);
        await WaitOutAsync(retryAfter, refusedAt);
        for (var i = 0; i < 3; i++)
        {
            using var answered = await InitializeAsync(gateway, "demo");
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        Assert.Equal(3, recovered.Posts.Count);
        Assert.Contains(gateway.Logs.Entries, e => e.Message.Contains("Circuit of server demo", StringComparison.Ordinal) && e.Message.Contains("closed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StoppedUpstream_OpensTheCircuit_WithoutWaitingForConnectionsToFail()
    {
        var port = UpstreamPort.Free();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", [new Uri($"http://127.0.0.1:{port}/mcp")], RoutesYaml.NoProbes, Breaker).ToString());

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await InitializeAsync(gateway, "demo");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.BadGateway, HttpStatusCode.BadGateway, HttpStatusCode.BadGateway], statuses.Take(3));
        Assert.All(statuses.Skip(3), s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s));
    }

    [Fact]
    public async Task ClientErrors_DoNotOpenTheCircuit()
    {
        await using var rejecting = await StatusUpstream.StartAsync(StatusCodes.Status400BadRequest, UpstreamPort.Free());
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", [rejecting.Endpoint], RoutesYaml.NoProbes, Breaker).ToString());

        for (var i = 0; i < 10; i++)
        {
            using var response = await InitializeAsync(gateway, "demo");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Equal(10, rejecting.Requests);
    }

    /// <summary>
    /// Waits, as a client told to would, until <paramref name="retryAfter"/> has passed since the refusal was answered
    /// at <paramref name="answeredAt"/>, and no longer. The gateway rounds Retry-After up to whole seconds from the
    /// moment it answered, so the break is over by then; timers may fire a little early, hence the check after each.
    /// </summary>
    private static async Task WaitOutAsync(TimeSpan retryAfter, long answeredAt)
    {
        for (var left = retryAfter - Stopwatch.GetElapsedTime(answeredAt); left > TimeSpan.Zero; left = retryAfter - Stopwatch.GetElapsedTime(answeredAt))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds)), Ct);
        }
    }

    private static Task<HttpResponseMessage> InitializeAsync(TestGateway gateway, string server) =>
        gateway.Http.SendAsync(RawMcp.Post("/mcp/" + server, RawMcp.Initialize), Ct);
}
