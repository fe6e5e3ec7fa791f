using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;
using Gateway.Transforms.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Telemetry;

/// <summary>What the gateway tells operators: MCP metrics at <c>/metrics</c>, and one audit event per MCP request.</summary>
public sealed class TelemetryTests
{
    private const string AuditCategory = "Gateway.Audit";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Metrics_AfterTraffic_HaveTheMcpInstruments_WithBoundedLabels()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml().Server("demo", upstream, RoutesYaml.NoProbes).ToString());
        string sessionId;
        await using (var client = await gateway.ConnectAsync("demo"))
        {
            sessionId = client.SessionId!;
            await client.ListToolsAsync(cancellationToken: Ct);
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        using (var mismatch = RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami")))
        {
            mismatch.Headers.Add("Mcp-Method", "tools/list");
            using var refused = await gateway.Http.SendAsync(mismatch, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        string[] expected =
        [
            "mcp_server_operation_duration_seconds_bucket{",
            "mcp_client_operation_duration_seconds_count{",
            "mcp_method_name=\"tools/call\"",
            "gen_ai_tool_name=\"whoami\"",
            "mcp_method_name=\"initialize\"",
            "mcp_gateway_server=\"demo\"",
            "error_type=\"-32020\"",
            "mcp_gateway_sessions_started_total{",
            "mcp_server_session_duration_seconds_count{",
            "mcp_gateway_streams_open{",
            "http_server_request_duration_seconds_bucket{",
        ];
        var metrics = string.Empty;
        await Eventually.TrueAsync(async () =>
        {
            metrics = await gateway.Http.GetStringAsync("/metrics", Ct);
            return expected.All(e => metrics.Contains(e, StringComparison.Ordinal));
        });

        Assert.DoesNotContain(sessionId, metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_IncludesToolArguments_OnlyWhereTheServerOptsIn()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("open", upstream, RoutesYaml.NoProbes, "audit: { includeArguments: true }")
            .Server("closed", upstream, RoutesYaml.NoProbes).ToString());

        foreach (var server in new[] { "open", "closed" })
        {
            var sessionId = await RawMcp.InitializeAsync(gateway.Http, "/mcp/" + server);
            await SendAsync(gateway, RawMcp.Post("/mcp/" + server, RawMcp.CallTool("echo", arguments: """{"message":"hello-audit"}"""), sessionId), token: null, HttpStatusCode.OK);
        }

        var events = await AuditEventsAsync(gateway, 6);
        var open = Assert.Single(events, e => (string?)e.Fields["Server"] == "open" && (string?)e.Fields["Target"] == "echo");
        var closed = Assert.Single(events, e => (string?)e.Fields["Server"] == "closed" && (string?)e.Fields["Target"] == "echo");
        Assert.Equal("""{"message":"hello-audit"}""", open.Fields["Arguments"]);
        Assert.Null(closed.Fields["Arguments"]);
        Assert.DoesNotContain("hello-audit", closed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithOtlpConfigured_TheUpstreamGetsTheCallersTrace_ThroughAGatewaySpan()
    {
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        const string callerSpan = "00f067aa0ba902b7";
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(
            new RoutesYaml().Server("demo", upstream, RoutesYaml.NoProbes).ToString(), null, "--OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317");

        // A client of its own: the gateway's tracing listens process-wide, and would have this test's HttpClient
        // replace the caller's traceparent with one of its own.
        using var caller = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = gateway.BaseAddress };
        using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        using var response = await caller.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = Assert.Single(upstream.Posts).Headers["traceparent"];
        Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-01$", forwarded);
        Assert.DoesNotContain(callerSpan, forwarded, StringComparison.Ordinal);
    }

    [Fact]
    public void MetricLabels_AreBounded_WhateverClientsSend()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new McpMetrics(services.GetRequiredService<IMeterFactory>());

        var labels = Enumerable.Range(0, McpMetrics.MaxToolNamesPerServer + 10).Select(i => metrics.ToolLabel("demo", "tool-" + i)).ToList();

        Assert.Equal(McpMetrics.MaxToolNamesPerServer, labels.Count(l => l.StartsWith("tool-", StringComparison.Ordinal)));
        Assert.Equal("_OTHER", labels[^1]);
        Assert.Equal("tool-0", metrics.ToolLabel("demo", "tool-0"));
        Assert.Equal("tool-0", metrics.ToolLabel("other", "tool-0"));
        Assert.Equal("tools/call", McpMetrics.MethodLabel("tools/call"));
        Assert.Equal("_OTHER", McpMetrics.MethodLabel("x/" + Guid.NewGuid()));
    }

    [Fact]
    public async Task Audit_RecordsSuccessErrorAndDenial_OneEventEach_WithoutTokens()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, RoutesYaml.NoProbes, "auth:", "  audience: mcp-gateway")
            .Gateway(idp.GatewayAuth()).ToString());
        var token = await idp.IssueUserTokenAsync("alice", "mcp-gateway", "tools:call");

        var sessionId = await SendAsync(gateway, RawMcp.Post("/mcp/demo", RawMcp.Initialize), token, HttpStatusCode.OK);
        await SendAsync(gateway, RawMcp.Post("/mcp/demo", RawMcp.Initialized, sessionId), token, HttpStatusCode.Accepted);
        await SendAsync(gateway, RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami", arguments: """{"secret":"argument-value"}"""), sessionId), token, HttpStatusCode.OK);
        var mismatch = RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami"), sessionId);
        mismatch.Headers.Add("Mcp-Name", "other");
        await SendAsync(gateway, mismatch, token, HttpStatusCode.BadRequest);
        await SendAsync(gateway, RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami")), token: null, HttpStatusCode.Unauthorized);

        var events = await AuditEventsAsync(gateway, 5);
        var success = Assert.Single(events, e => (string?)e.Fields["Target"] == "whoami" && (int)e.Fields["Status"]! == 200);
        Assert.Equal("demo", success.Fields["Server"]);
        Assert.Equal("tools/call", success.Fields["McpMethod"]);
        Assert.Equal("alice", success.Fields["Subject"]);
        Assert.Equal(idp.Issuer.ToString(), success.Fields["Issuer"]);
        Assert.Null(success.Fields["ErrorCode"]);
        Assert.True((long)success.Fields["RequestBytes"]! > 0);
        Assert.True((long)success.Fields["ResponseBytes"]! > 0);
        Assert.Matches("^[0-9a-f]{24}$", (string)success.Fields["Session"]!);

        var error = Assert.Single(events, e => (int)e.Fields["Status"]! == 400);
        Assert.Equal(JsonRpcErrorCodes.HeaderMismatch, error.Fields["ErrorCode"]);
        Assert.Equal(success.Fields["Session"], error.Fields["Session"]);

        var denied = Assert.Single(events, e => (int)e.Fields["Status"]! == 401);
        Assert.Equal(JsonRpcErrorCodes.Unauthorized, denied.Fields["ErrorCode"]);
        Assert.Null(denied.Fields["Subject"]);

        Assert.All(events, e =>
        {
            Assert.DoesNotContain(token, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("argument-value", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(sessionId, e.Message, StringComparison.Ordinal);
            Assert.All(e.Fields.Values, v => Assert.False(v is string s && (s.Contains(token, StringComparison.Ordinal) || s.Contains(sessionId, StringComparison.Ordinal))));
        });
    }

    private static async Task<string> SendAsync(TestGateway gateway, HttpRequestMessage request, string? token, HttpStatusCode expected)
    {
        using (request)
        {
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            using var response = await gateway.Http.SendAsync(request, Ct);
            Assert.Equal(expected, response.StatusCode);
            await response.Content.ReadAsStringAsync(Ct);
            return response.Headers.TryGetValues("Mcp-Session-Id", out var values) ? values.Single() : string.Empty;
        }
    }

    /// <summary>The audit events once <paramref name="count"/> of them were written (each is written when its request has ended).</summary>
    private static async Task<IReadOnlyList<CapturedLog>> AuditEventsAsync(TestGateway gateway, int count)
    {
        await Eventually.TrueAsync(() => Task.FromResult(gateway.Logs.Entries.Count(e => e.Category == AuditCategory) >= count));
        return [.. gateway.Logs.Entries.Where(e => e.Category == AuditCategory)];
    }
}
