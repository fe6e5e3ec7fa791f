extern alias bridge;
using bridge::Gateway.StdioBridge.Sessions;
using Gateway.Mcp;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.StdioBridge;

/// <summary>
/// One caller cannot take every process of a stdio server: at its <c>maxSessionsPerCaller</c>, a new session of the
/// caller ends the caller's own session idle the longest, and is refused only when each of them is answering a request.
/// Real processes of the C# stdio test server, on a fake clock.
/// </summary>
public sealed class StdioCallerLimitTests : IAsyncDisposable
{
    private const string Server = DirectStdioSessions.Server;

    // A first progress step at once, then a pause far longer than the test: in flight until the client leaves.
    private const string SlowCall = """
        {"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"progress","arguments":{"steps":2,"delayMs":600000},"_meta":{"progressToken":"p"}}}
        """;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private readonly DirectStdioSessions _bridge;

    public StdioCallerLimitTests() => _bridge = new DirectStdioSessions(_time, TimeSpan.FromMinutes(30), maxSessionsPerCaller: 2);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync() => _bridge.DisposeAsync();

    [Fact]
    public async Task CallerAtItsLimit_EndsItsOwnSessionIdleTheLongest_AndNobodyElses()
    {
        var bobs = await _bridge.StartAsync("bob");
        _time.Advance(TimeSpan.FromSeconds(1));
        var oldest = await _bridge.StartAsync("alice");
        _time.Advance(TimeSpan.FromSeconds(1));
        var newer = await _bridge.StartAsync("alice");
        _time.Advance(TimeSpan.FromSeconds(1));

        var third = await _bridge.StartAsync("alice");

        Assert.Null(_bridge.Registry.Find(Server, oldest.Id));
        Assert.Same(newer, _bridge.Registry.Find(Server, newer.Id));
        Assert.Same(third, _bridge.Registry.Find(Server, third.Id));
        Assert.Same(bobs, _bridge.Registry.Find(Server, bobs.Id));
        Assert.Equal(3, _bridge.Pool.CountOf(Server));
    }

    [Fact]
    public async Task SessionsThatEnded_FreeTheirPlaces_WhicheverWayTheyEnded()
    {
        var deleted = await _bridge.StartAsync("alice");
        var crashed = await _bridge.StartAsync("alice");

        Assert.True(await _bridge.Registry.EndAsync(deleted.Id));
        var crash = await DirectStdioSessions.CallAsync(crashed, RawMcp.CallTool("crash", id: 9));
        Assert.Equal(JsonRpcErrorCodes.UpstreamUnavailable, crash.GetProperty("error").GetProperty("code").GetInt32());

        await Eventually.TrueAsync(() => Task.FromResult(_bridge.Registry.Find(Server, crashed.Id) is null));
        _time.Advance(TimeSpan.FromSeconds(1));
        var first = await _bridge.StartAsync("alice");
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = await _bridge.StartAsync("alice");

        // Two places free: neither new session ended the other.
        Assert.Same(first, _bridge.Registry.Find(Server, first.Id));
        Assert.Same(second, _bridge.Registry.Find(Server, second.Id));
    }

    [Fact]
    public async Task CallerAtItsLimit_WithEverySessionAnswering_IsRefused_WhileOthersStillStart()
    {
        var first = await _bridge.StartAsync("alice");
        var second = await _bridge.StartAsync("alice");
        using var client = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var (firstPost, firstEvents) = await DirectStdioSessions.StartCallAsync(first, SlowCall, client.Token);
        var (secondPost, secondEvents) = await DirectStdioSessions.StartCallAsync(second, SlowCall, client.Token);
        await using (firstEvents)
        await using (secondEvents)
        {
            var refused = await _bridge.Registry.StartAsync(Server, _bridge.Options, "alice", oneShot: false, Ct);

            Assert.Null(refused.Session);
            Assert.Equal(SessionRefusal.CallerAtLimit, refused.Refusal);
            Assert.Equal(2, _bridge.Pool.CountOf(Server));
            Assert.NotNull(await _bridge.StartAsync("bob"));

            await client.CancelAsync();
            await Task.WhenAll(firstPost, secondPost);
        }

        // Once a session is idle again, the caller's next one takes its place.
        var admitted = await _bridge.StartAsync("alice");
        Assert.Equal(3, _bridge.Registry.Count);
        Assert.Same(admitted, _bridge.Registry.Find(Server, admitted.Id));
    }
}
