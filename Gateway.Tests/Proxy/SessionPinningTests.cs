using System.Net;
using System.Net.Http.Json;
using Gateway.Mcp;
using Gateway.Proxy.Api;
using Gateway.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Proxy;

/// <summary>Sessions stay on the upstream instance that created them, across calls and across gateway replicas.</summary>
public sealed class SessionPinningTests(RedisServer redis)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwentySessions_OverTwoUpstreams_EachStayOnItsUpstream()
    {
        await using var a = await TestUpstream.StartAsync("a");
        await using var b = await TestUpstream.StartAsync("b");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", [a.Endpoint, b.Endpoint], "loadBalancing: RoundRobin").ToString());

        var clients = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => gateway.ConnectAsync("demo")));
        try
        {
            var homes = new List<string>();
            foreach (var client in clients)
            {
                var answers = new List<string>();
                for (var call = 0; call < 3; call++)
                {
                    answers.Add(await WhoAmIAsync(client));
                }

                Assert.Single(answers.Distinct());
                homes.Add(answers[0]);
            }

            Assert.Equal(10, homes.Count(h => h == "a"));
            Assert.Equal(10, homes.Count(h => h == "b"));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }

        // Each upstream only ever saw its own sessions' ids.
        var idsOnA = a.Requests.Select(r => r.SessionId).OfType<string>().ToHashSet();
        var idsOnB = b.Requests.Select(r => r.SessionId).OfType<string>().ToHashSet();
        Assert.Equal(10, idsOnA.Count);
        Assert.Equal(10, idsOnB.Count);
        Assert.Empty(idsOnA.Intersect(idsOnB));
    }

    [Fact]
    public async Task SessionCreatedThroughOneReplica_ContinuesThroughAnother_OnTheSameUpstream()
    {
        await using var a = await TestUpstream.StartAsync("a");
        await using var b = await TestUpstream.StartAsync("b");
        var sharedKeys = TempDirectory.Create();
        var routes = new RoutesYaml(sharedKeys).Server("demo", [a.Endpoint, b.Endpoint], "loadBalancing: RoundRobin").ToString();
        await using var first = await TestGateway.StartAsync(routes);
        await using var second = await TestGateway.StartAsync(routes);

        // Two sessions through the first replica: one on each upstream, whatever the round-robin start.
        var sessions = new[] { await RawMcp.InitializeAsync(first.Http, "/mcp/demo"), await RawMcp.InitializeAsync(first.Http, "/mcp/demo") };
        var homes = new List<string>();
        foreach (var session in sessions)
        {
            var viaFirst = await WhoAmIRawAsync(first, session);
            for (var call = 0; call < 4; call++)
            {
                Assert.Equal(viaFirst, await WhoAmIRawAsync(second, session));
            }

            homes.Add(viaFirst);
        }

        Assert.Equal(["a", "b"], homes.Order());
    }

    [Fact]
    public async Task ReplicasSharingARedisKeyRing_ContinueEachOthersSessions()
    {
        await using var a = await TestUpstream.StartAsync("a");
        var routes = new RoutesYaml(keysDirectory: null, redis: redis.ConnectionString).Server("demo", a).ToString();
        await using var first = await TestGateway.StartAsync(routes);
        await using var second = await TestGateway.StartAsync(routes);

        var session = await RawMcp.InitializeAsync(first.Http, "/mcp/demo");
        Assert.Equal("a", await WhoAmIRawAsync(second, session));
    }

    [Fact]
    public async Task SessionWhoseDestinationWasRemoved_Is404_AndNothingIsForwarded()
    {
        await using var a = await TestUpstream.StartAsync("a");
        await using var b = await TestUpstream.StartAsync("b");
        var keys = TempDirectory.Create();
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml(keys).Server("demo", a, RoutesYaml.NoProbes).ToString());
        var session = await RawMcp.InitializeAsync(gateway.Http, "/mcp/demo");
        var seenByA = a.Requests.Count;

        await File.WriteAllTextAsync(gateway.RoutesPath, new RoutesYaml(keys).Server("demo", b, RoutesYaml.NoProbes).ToString(), Ct);
        await Eventually.TrueAsync(async () =>
        {
            var services = await gateway.Http.GetFromJsonAsync<List<ServiceInfo>>("/api/v1/services", Ct);
            return services![0].Destinations[0].Url == b.Endpoint.ToString();
        });

        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami"), session), Ct);
        await RawMcp.AssertErrorAsync(response, HttpStatusCode.NotFound, JsonRpcErrorCodes.SessionNotFound, id: "2");
        Assert.Equal(seenByA, a.Requests.Count);
        Assert.Empty(b.Requests);
    }

    [Fact]
    public async Task NewSessions_GoOnlyToHealthyDestinations()
    {
        await using var a = await TestUpstream.StartAsync("a");
        var b = await TestUpstream.StartAsync("b");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", [a.Endpoint, b.Endpoint], "loadBalancing: RoundRobin", "healthCheck: { interval: '00:00:00.200', timeout: '00:00:01' }").ToString());
        await b.DisposeAsync();

        await Eventually.TrueAsync(async () =>
        {
            var services = await gateway.Http.GetFromJsonAsync<List<ServiceInfo>>("/api/v1/services", Ct);
            return services![0].Destinations.Single(d => d.Url == b.Endpoint.ToString()).ActiveHealth == "unhealthy";
        });

        for (var i = 0; i < 6; i++)
        {
            await using var client = await gateway.ConnectAsync("demo");
            Assert.Equal("a", await WhoAmIAsync(client));
        }
    }

    private static async Task<string> WhoAmIAsync(McpClient client)
    {
        var result = await client.CallToolAsync("whoami", cancellationToken: Ct);
        return Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
    }

    private static async Task<string> WhoAmIRawAsync(TestGateway gateway, string session)
    {
        using var response = await gateway.Http.SendAsync(RawMcp.Post("/mcp/demo", RawMcp.CallTool("whoami"), session), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = await RawMcp.ReadMessageAsync(response);
        return message.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!;
    }
}
