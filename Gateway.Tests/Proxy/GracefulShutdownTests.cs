using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>SIGTERM as Kubernetes sends it: not ready at once, requests in flight finish, GET streams end cleanly, exit 0.</summary>
public sealed class GracefulShutdownTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sigterm_FailsReadiness_FinishesThePost_EndsTheStreamCleanly_AndExitsZero_WithinTheGracePeriod()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        var port = UpstreamPort.Free();
        var routes = Path.Combine(TempDirectory.Create(), "routes.yaml");
        await File.WriteAllTextAsync(routes, new RoutesYaml()
            .Server("demo", upstream, RoutesYaml.NoProbes)
            .Gateway("shutdown: { drainDelay: '00:00:03', gracePeriod: '00:00:15' }").ToString(), Ct);
        using var gateway = ChildProcess.StartDotnet("Gateway.Proxy.dll", ["--routes", routes, "--port", port.ToString(CultureInfo.InvariantCulture)]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                using var ready = await http.GetAsync("/health/ready", Ct);
                return ready.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, timeoutSeconds: 30);

        var sessionId = await RawMcp.InitializeAsync(http, "/mcp/demo");
        using var streamRequest = new HttpRequestMessage(HttpMethod.Get, "/mcp/demo");
        streamRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        streamRequest.Headers.Add("Mcp-Session-Id", sessionId);
        streamRequest.Headers.Add("MCP-Protocol-Version", RawMcp.ProtocolVersion);
        using var stream = await http.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        // Read to the end: a connection closed before the last chunk would throw here (the response "ended prematurely").
        var streamEnded = stream.Content.CopyToAsync(Stream.Null, Ct);

        // A tool call that is still running when SIGTERM arrives.
        var call = http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("progress"), sessionId), HttpCompletionOption.ResponseContentRead, Ct);
        await Eventually.TrueAsync(() => Task.FromResult(upstream.Posts.Any(p => p.Body.Contains("\"progress\"", StringComparison.Ordinal))));

        var stopping = Stopwatch.StartNew();
        Assert.Equal(0, Signals.Terminate(gateway.Process.Id));
        await Eventually.TrueAsync(async () =>
        {
            using var ready = await http.GetAsync("/health/ready", Ct);
            return ready.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, timeoutSeconds: 3);

        upstream.Gate.Release();
        using var answer = await call;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("done", await answer.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        await streamEnded.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        await gateway.Process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(15), Ct);
        Assert.Equal(0, gateway.Process.ExitCode);
        Assert.InRange(stopping.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(15));
    }
}
