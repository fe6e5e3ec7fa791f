using Gateway.Transforms.Limits;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Limits;

/// <summary>This replica's own token buckets, on a fake clock: burst, refill, Retry-After and forgetting.</summary>
public sealed class LocalBucketsTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Burst_IsAllowedAtOnce_ThenTheNextWaitsForOneInterval()
    {
        var buckets = new LocalBuckets(_time);

        Assert.All(Enumerable.Range(0, 3), _ => Assert.Null(buckets.TryTake("demo\nalice", Interval, burst: 3)));
        Assert.Equal(Interval, buckets.TryTake("demo\nalice", Interval, burst: 3));

        _time.Advance(Interval - TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), buckets.TryTake("demo\nalice", Interval, burst: 3));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(buckets.TryTake("demo\nalice", Interval, burst: 3));
        Assert.NotNull(buckets.TryTake("demo\nalice", Interval, burst: 3));
    }

    [Fact]
    public void EachKey_HasABucketOfItsOwn()
    {
        var buckets = new LocalBuckets(_time);

        Assert.Null(buckets.TryTake("demo\nalice", Interval, burst: 1));
        Assert.NotNull(buckets.TryTake("demo\nalice", Interval, burst: 1));
        Assert.Null(buckets.TryTake("demo\nbob", Interval, burst: 1));
    }

    [Fact]
    public void QuietSpell_RefillsTheBucket_ButNotBeyondItsBurst()
    {
        var buckets = new LocalBuckets(_time);
        Assert.Null(buckets.TryTake("demo\nalice", Interval, burst: 2));

        _time.Advance(TimeSpan.FromHours(1));

        Assert.Null(buckets.TryTake("demo\nalice", Interval, burst: 2));
        Assert.Null(buckets.TryTake("demo\nalice", Interval, burst: 2));
        Assert.NotNull(buckets.TryTake("demo\nalice", Interval, burst: 2));
    }

    [Fact]
    public void Sweep_ForgetsFullBuckets_AndThoseNotKept_ButKeepsOthersState()
    {
        var buckets = new LocalBuckets(_time);
        buckets.TryTake("refilled\nalice", Interval, burst: 1);
        _time.Advance(Interval);
        buckets.TryTake("kept\nalice", Interval, burst: 1);
        buckets.TryTake("removed\nalice", Interval, burst: 1);

        buckets.Sweep(key => !key.StartsWith("removed", StringComparison.Ordinal));

        Assert.Equal(1, buckets.Count);
        Assert.NotNull(buckets.TryTake("kept\nalice", Interval, burst: 1));
    }
}
