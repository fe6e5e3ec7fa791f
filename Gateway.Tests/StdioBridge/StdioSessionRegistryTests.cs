using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.StdioBridge;

/// <summary>
/// Which sessions <c>ReapIdleAsync</c> ends, on a fake clock, with real processes of the C# stdio test server: those
/// idle past their server's timeout, never one touched since or with a request in flight.
/// </summary>
public sealed class StdioSessionRegistryTests : IAsyncDisposable
{
    private const string Server = DirectStdioSessions.Server;
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));
    private readonly DirectStdioSessions _bridge;

    public StdioSessionRegistryTests() => _bridge = new DirectStdioSessions(_time, IdleTimeout);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync() => _bridge.DisposeAsync();

    [Fact]
    public async Task ReapIdleAsync_SessionIdlePastItsTimeout_EndsIt_AndStopsItsProcess()
    {
        var session = await _bridge.StartAsync();
        var pid = await DirectStdioSessions.PidAsync(session);
        Assert.Equal(1, _bridge.Pool.CountOf(Server));

        _time.Advance(IdleTimeout + OneSecond);
        await _bridge.Registry.ReapIdleAsync();

        Assert.Null(_bridge.Registry.Find(Server, session.Id));
        Assert.Equal(0, _bridge.Registry.Count);
        Assert.Equal(0, _bridge.Pool.CountOf(Server));
        await Eventually.TrueAsync(() => Task.FromResult(!DirectStdioSessions.IsRunning(pid)));
    }

    [Fact]
    public async Task ReapIdleAsync_LessThanTheTimeoutAfterTheLastActivity_KeepsTheSessionAndItsProcess()
    {
        var session = await _bridge.StartAsync();
        var pid = await DirectStdioSessions.PidAsync(session);

        _time.Advance(IdleTimeout - OneSecond);
        await _bridge.Registry.ReapIdleAsync();

        Assert.Same(session, _bridge.Registry.Find(Server, session.Id));
        Assert.Equal(1, _bridge.Pool.CountOf(Server));
        Assert.True(DirectStdioSessions.IsRunning(pid));

        // Two seconds on, it is idle past the timeout: the reap above kept it only because it was not yet.
        _time.Advance(OneSecond + OneSecond);
        await _bridge.Registry.ReapIdleAsync();
        Assert.Null(_bridge.Registry.Find(Server, session.Id));
    }

    [Fact]
    public async Task ReapIdleAsync_SessionUsedWithinTheTimeout_IsKept_ThoughItStartedLongerAgo()
    {
        var session = await _bridge.StartAsync();
        _time.Advance(IdleTimeout - TimeSpan.FromMinutes(1));
        Assert.Equal("still here", (await DirectStdioSessions.CallAsync(session, RawMcp.CallTool("echo", arguments: """{"message":"still here"}""")))
            .GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());

        // Started eleven minutes ago, last used two minutes ago.
        _time.Advance(TimeSpan.FromMinutes(2));
        await _bridge.Registry.ReapIdleAsync();
        Assert.Same(session, _bridge.Registry.Find(Server, session.Id));
        Assert.Equal(1, _bridge.Pool.CountOf(Server));

        _time.Advance(IdleTimeout);
        await _bridge.Registry.ReapIdleAsync();
        Assert.Null(_bridge.Registry.Find(Server, session.Id));
        Assert.Equal(0, _bridge.Pool.CountOf(Server));
    }

    [Fact]
    public async Task ReapIdleAsync_SessionWithARequestInFlight_IsKept_HoweverLongTheRequestTakes()
    {
        var session = await _bridge.StartAsync();
        using var client = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // A first progress step at once, then a pause far longer than the test: in flight until the client leaves.
        var (post, events) = await DirectStdioSessions.StartCallAsync(session, """
            {"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"progress","arguments":{"steps":2,"delayMs":600000},"_meta":{"progressToken":"p"}}}
            """, client.Token);
        await using (events)
        {
            _time.Advance(IdleTimeout + TimeSpan.FromMinutes(1));
            await _bridge.Registry.ReapIdleAsync();
            Assert.Same(session, _bridge.Registry.Find(Server, session.Id));
            Assert.Equal(1, _bridge.Pool.CountOf(Server));

            // The client goes away: the request has ended, and the session is idle from then on.
            await client.CancelAsync();
            Assert.True(await post);
        }

        _time.Advance(IdleTimeout - OneSecond);
        await _bridge.Registry.ReapIdleAsync();
        Assert.Same(session, _bridge.Registry.Find(Server, session.Id));

        _time.Advance(OneSecond + OneSecond);
        await _bridge.Registry.ReapIdleAsync();
        Assert.Null(_bridge.Registry.Find(Server, session.Id));
        Assert.Equal(0, _bridge.Pool.CountOf(Server));
    }
}
