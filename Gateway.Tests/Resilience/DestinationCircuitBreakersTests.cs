using System.Diagnostics.Metrics;
using Gateway.Transforms.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Resilience;

/// <summary>The breakers of upstream destinations on a fake clock: when they open, probe and close; replaced and released with the routes.</summary>
/// <remarks>Polly's types are not named here: the tests also see Polly 7 (through Microsoft.Identity.Web), whose names are the same.</remarks>
public sealed class DestinationCircuitBreakersTests : IDisposable
{
    private static readonly CircuitBreakerOptions Thresholds = new()
    {
        FailureRatio = 0.5,
        MinimumThroughput = 4,
        SamplingDuration = TimeSpan.FromSeconds(30),
        BreakDuration = TimeSpan.FromSeconds(20),
    };

    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly DestinationCircuitBreakers _breakers;

    public DestinationCircuitBreakersTests() =>
        _breakers = new DestinationCircuitBreakers(_time, _services.GetRequiredService<IMeterFactory>(), NullLogger<DestinationCircuitBreakers>.Instance);

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task Failures_OverTheRatio_OpenTheCircuit_ForTheBreakDuration_ThenOneProbeClosesIt()
    {
        var breaker = _breakers.For("demo", "http://a/mcp", Thresholds);
        await RunAsync(breaker, failed: false);
        await RunAsync(breaker, failed: true);
        await RunAsync(breaker, failed: false);
        Assert.Equal("Closed", breaker.State.ToString());

        await RunAsync(breaker, failed: true);
        Assert.Equal("Open", breaker.State.ToString());
        Assert.False(breaker.Admits);
        Assert.Equal(TimeSpan.FromSeconds(20), breaker.RetryAfter);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => RunAsync(breaker, failed: false));
        Assert.Equal("BrokenCircuitException", refused.GetType().Name);

        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(breaker.Admits);
        Assert.Equal(TimeSpan.FromSeconds(1), breaker.RetryAfter);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.Admits);
        await RunAsync(breaker, failed: false);
        Assert.Equal("Closed", breaker.State.ToString());
    }

    [Fact]
    public async Task FailedProbe_OpensTheCircuitAgain()
    {
        var breaker = _breakers.For("demo", "http://a/mcp", Thresholds);
        for (var i = 0; i < 4; i++)
        {
            await RunAsync(breaker, failed: true);
        }

        _time.Advance(Thresholds.BreakDuration);
        await RunAsync(breaker, failed: true);

        Assert.Equal("Open", breaker.State.ToString());
        Assert.False(breaker.Admits);
    }

    [Fact]
    public async Task FailuresOutsideTheSamplingWindow_DoNotCount()
    {
        var breaker = _breakers.For("demo", "http://a/mcp", Thresholds);
        await RunAsync(breaker, failed: true);
        await RunAsync(breaker, failed: true);
        _time.Advance(TimeSpan.FromSeconds(31));
        await RunAsync(breaker, failed: true);
        await RunAsync(breaker, failed: false);
        await RunAsync(breaker, failed: false);

        Assert.Equal("Closed", breaker.State.ToString());
    }

    [Fact]
    public void OneBreakerPerDestination_ReplacedWhenItsThresholdsChange()
    {
        var first = _breakers.For("demo", "http://a/mcp", Thresholds);

        Assert.Same(first, _breakers.For("demo", "http://a/mcp", Thresholds with { }));
        Assert.NotSame(first, _breakers.For("demo", "http://b/mcp", Thresholds));

        var replaced = _breakers.For("demo", "http://a/mcp", Thresholds with { BreakDuration = TimeSpan.FromMinutes(1) });
        Assert.NotSame(first, replaced);
        Assert.Equal(2, _breakers.All.Count());
        Assert.Same(replaced, _breakers.All.Single(b => b.Destination == "http://a/mcp"));
    }

    [Fact]
    public void Retain_DropsTheBreakersOfDestinationsNoLongerConfigured()
    {
        _breakers.For("demo", "http://a/mcp", Thresholds);
        _breakers.For("demo", "http://b/mcp", Thresholds);
        _breakers.For("gone", "http://c/mcp", Thresholds);

        _breakers.Retain((server, destination) => server == "demo" && destination == "http://a/mcp");

        Assert.Equal("http://a/mcp", Assert.Single(_breakers.All).Destination);
    }

    private static Task<bool> RunAsync(DestinationCircuitBreaker breaker, bool failed) =>
        breaker.Pipeline.ExecuteAsync(_ => ValueTask.FromResult(failed), TestContext.Current.CancellationToken).AsTask();
}
