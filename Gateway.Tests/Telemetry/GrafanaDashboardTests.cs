using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;

namespace Gateway.Tests.Telemetry;

/// <summary>No dead panels: every metric the dashboards in <c>grafana/</c> query is exported by the gateway after traffic.</summary>
public sealed partial class GrafanaDashboardTests
{
    private static readonly string Dashboards = Path.Combine(RepositoryPaths.Root, "grafana", "dashboards");

    private static readonly HashSet<string> PromQlWords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Dashboards_UseTheDatasourceVariable_AndParse()
    {
        var files = Directory.GetFiles(Dashboards, "*.json");
        Assert.Equal(5, files.Length);
        foreach (var file in files)
        {
            var dashboard = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
            Assert.Contains(dashboard.GetProperty("templating").GetProperty("list").EnumerateArray(), v => v.GetProperty("type").GetString() == "datasource");
            foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
            {
                Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
                Assert.NotEmpty(panel.GetProperty("targets").EnumerateArray());
            }
        }
    }

    [Fact]
    public async Task EveryMetricTheDashboardsQuery_IsExported_AfterTraffic()
    {
        var queried = Directory.GetFiles(Dashboards, "*.json").SelectMany(ExpressionsOf).SelectMany(MetricsOf).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("mcp_server_operation_duration_seconds_bucket", queried);
        Assert.Contains("mcp_gateway_circuit_state", queried);
        Assert.Contains("mcp_gateway_stdio_processes", queried);

        await using var idp = await TestIdentityProvider.StartAsync();
        await using var upstream = await TestUpstream.StartAsync("upstream-a", trustedIssuer: idp.Issuer);
        var deadRedis = $"127.0.0.1:{UpstreamPort.Free()}";
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, [RoutesYaml.NoProbes, "rateLimit: { requestsPerMinute: 3, burst: 3 }", .. idp.UpstreamAuth("token-exchange", "upstream-a")])
            .StdioServer("local", StdioCommand.TestServer)
            .Gateway(idp.GatewayAuth("audience: mcp-gateway"))
            .Gateway("tokenCache:", $"  redis: '{deadRedis}'", "rateLimiting:", $"  redis: '{deadRedis}'").ToString());
        var token = await idp.IssueUserTokenAsync("alice", "mcp-gateway");

        await using (var client = await gateway.ConnectAsync("demo", accessToken: token))
        {
            await client.CallToolAsync("whoami", cancellationToken: Ct);
        }

        await using (var client = await gateway.ConnectAsync("local", accessToken: token))
        {
            await client.ListToolsAsync(cancellationToken: Ct);
        }

        // A refusal of each kind: no token (401), and the rate limit (429).
        using (var anonymous = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.Initialize), Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        for (var i = 0; i < 4; i++)
        {
            using var request = RawMcp.Post("/mcp/demo", RawMcp.Initialize);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await gateway.Http.SendAsync(request, Ct);
        }

        // Scrapes are cached briefly: look again for a while before naming what is missing.
        List<string> missing = [];
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var exported = await gateway.Http.GetStringAsync("/metrics", Ct);
            missing = [.. queried.Where(metric => !Regex.IsMatch(exported, "^" + Regex.Escape(metric) + "[{ ]", RegexOptions.Multiline))];
            if (missing.Count == 0)
            {
                break;
            }

            await Task.Delay(500, Ct);
        }

        Assert.Empty(missing);
    }

    private static IEnumerable<string> ExpressionsOf(string file)
    {
        var dashboard = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                yield return target.GetProperty("expr").GetString()!;
            }
        }

        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.TryGetProperty("definition", out var definition))
            {
                // label_values(<query>, <label>): only the query names metrics.
                yield return LabelValues().Replace(definition.GetString()!, "$1");
            }
        }
    }

    /// <summary>The metric names in a PromQL expression: identifiers that are not functions, keywords, label names or strings.</summary>
    private static IEnumerable<string> MetricsOf(string expression)
    {
        var bare = Strings().Replace(expression, string.Empty);
        bare = Matchers().Replace(bare, string.Empty);
        bare = Groupings().Replace(bare, string.Empty);
        bare = Ranges().Replace(bare, string.Empty);
        return Identifiers().Matches(bare).Select(m => m.Value).Where(name => !PromQlWords.Contains(name) && !name.StartsWith('$'));
    }

    [GeneratedRegex(@"label_values\(\s*([^,]+),[^)]*\)")]
    private static partial Regex LabelValues();

    [GeneratedRegex("\"[^\"]*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Groupings();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    // An identifier not followed by "(" (a function) and not a number.
    [GeneratedRegex(@"(?<![\w$.])[A-Za-z_:][A-Za-z0-9_:]*\b(?!\s*\()")]
    private static partial Regex Identifiers();
}
