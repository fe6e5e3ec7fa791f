using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using StackExchange.Redis;

namespace Gateway.Tests.VirtualServers;

/// <summary>Two gateways sharing a key ring and Redis: a virtual session started on one continues on the other.</summary>
public sealed class VirtualSessionContinuationTests(RedisServer redis)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SessionStartedOnOneGateway_ContinuesOnTheOther_WithTheSameMemberSession()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        var (first, second) = await TwoGatewaysAsync(alpha);
        await using var firstGateway = first;
        await using var secondGateway = second;

        await using var client = await first.ConnectAsync("work");
        var echo = await client.CallToolAsync("alpha__echo", new Dictionary<string, object?> { ["message"] = "on the first" }, cancellationToken: Ct);
        Assert.Equal("on the first", Assert.IsType<TextContentBlock>(echo.Content[0]).Text);
        var memberSession = Assert.Single(alpha.Posts, p => p.Body.Contains("\"tools/call\"", StringComparison.Ordinal)).SessionId;
        Assert.NotNull(memberSession);

        using var response = await second.Http.SendAsync(RawMcp.Post("/mcp/work", RawMcp.CallTool("alpha__whoami"), client.SessionId), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal("alpha", message.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());

        // The second gateway resumed the member session the first one opened: the member saw one initialize.
        Assert.Single(alpha.Posts, p => p.Body.Contains("\"initialize\"", StringComparison.Ordinal));
        Assert.Contains(alpha.Posts, p => p.Body.Contains("whoami", StringComparison.Ordinal) && p.SessionId == memberSession);
    }

    [Fact]
    public async Task ForgedSessionId_IsNotFound_AndNothingIsForwarded()
    {
        await using var alpha = await TestUpstream.StartAsync("alpha");
        var (first, second) = await TwoGatewaysAsync(alpha);
        await using var firstGateway = first;
        await using var secondGateway = second;

        await using var client = await first.ConnectAsync("work");
        using var forged = await second.Http.SendAsync(RawMcp.Post("/mcp/work", RawMcp.CallTool("alpha__whoami"), client.SessionId + "x"), Ct);
        await RawMcp.AssertErrorAsync(forged, HttpStatusCode.NotFound, -32001, id: "2");
        Assert.DoesNotContain(alpha.Posts, p => p.Body.Contains("whoami", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SessionInUse_KeepsItsStoredRecord_ALifetimeFromItsUse()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var alpha = await TestUpstream.StartAsync("alpha");
        var routes = new RoutesYaml(redis: redis.ConnectionString)
            .Server("alpha", alpha, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString();
        await using var gateway = await TestGateway.StartAsync(routes, builder => builder.Services.AddSingleton<TimeProvider>(time));
        await using var client = await gateway.ConnectAsync("work");
        await client.CallToolAsync("alpha__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Ct);

        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = connection.GetDatabase();
        var key = (RedisKey)("mcp-gateway:virtual-session:" + Gateway.Mcp.Sha256Text.Hex(client.SessionId!, bytes: 16));
        Assert.True(await database.KeyExistsAsync(key));
        await database.KeyExpireAsync(key, TimeSpan.FromMinutes(1));

        // Ten minutes on, the session's next use gives the record a whole lifetime again.
        time.Advance(TimeSpan.FromMinutes(11));
        await client.CallToolAsync("alpha__echo", new Dictionary<string, object?> { ["message"] = "y" }, cancellationToken: Ct);
        await Eventually.TrueAsync(async () => await database.KeyTimeToLiveAsync(key) > TimeSpan.FromHours(1));
    }

    /// <summary>Two gateways on one routes file, sharing the key ring and the virtual session store in Redis.</summary>
    private async Task<(TestGateway First, TestGateway Second)> TwoGatewaysAsync(TestUpstream member)
    {
        var routes = new RoutesYaml(redis: redis.ConnectionString)
            .Server("alpha", member, RoutesYaml.NoProbes)
            .VirtualServer("work", ["alpha"]).ToString();
        return (await TestGateway.StartAsync(routes), await TestGateway.StartAsync(routes));
    }
}
