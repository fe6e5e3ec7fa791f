extern alias bridge;
using bridge::Gateway.StdioBridge.Sessions;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.StdioBridge;

/// <summary>The reaper's timer runs on the bridge's clock: its ticks end the idle sessions, and only those.</summary>
public sealed class IdleSessionReaperTests
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ticks_OfTheFakeClock_EndTheIdleSession_AndKeepTheOneInUse()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));
        await using var bridge = new DirectStdioSessions(time, IdleTimeout);
        var idle = await bridge.StartAsync();
        var used = await bridge.StartAsync();
        time.Advance(IdleTimeout);
        await DirectStdioSessions.PidAsync(used);
        using var reaper = new IdleSessionReaper(bridge.Registry, time);
        await reaper.StartAsync(Ct);

        // StartAsync returns before ExecuteAsync has made its timer (since .NET 10 all of it runs on the thread pool),
        // and a timer made after an advance counts from then: so each poll moves the clock one period on, and the
        // ticks come from the fake clock once the timer exists. No real second passes per tick.
        await Eventually.TrueAsync(() =>
        {
            time.Advance(IdleSessionReaper.Period);
            return Task.FromResult(bridge.Registry.Find(DirectStdioSessions.Server, idle.Id) is null && bridge.Pool.CountOf(DirectStdioSessions.Server) == 1);
        });

        Assert.Same(used, bridge.Registry.Find(DirectStdioSessions.Server, used.Id));
        await reaper.StopAsync(Ct);
    }
}
