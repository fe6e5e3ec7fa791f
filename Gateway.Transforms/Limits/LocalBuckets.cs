using System.Collections.Concurrent;

namespace Gateway.Transforms.Limits;

/// <summary>
/// Token buckets in this replica's memory, as GCRA on the injected monotonic clock: the same algorithm the Redis script runs,
/// so a limit holds alike in either place. A bucket is one timestamp (the "theoretical arrival time"); a bucket that
/// has filled up again is the same as none, and is forgotten by <see cref="Sweep"/>.
/// </summary>
/// <remarks>System.Threading.RateLimiting's token buckets replenish on the wall clock from a timer of their own; these
/// follow <see cref="TimeProvider"/>, so tests step them with a fake clock.</remarks>
internal sealed class LocalBuckets(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, long> _arrivals = new(StringComparer.Ordinal);

    /// <summary>How many buckets are kept (it locks the whole map: for tests and rare checks, not for every request).</summary>
    public int Count => _arrivals.Count;

    /// <summary>Takes a token from bucket <paramref name="key"/>; null when allowed, else how long until the next token.</summary>
    public TimeSpan? TryTake(string key, TimeSpan interval, int burst)
    {
        var now = time.GetTimestamp();
        var step = (long)(interval.TotalSeconds * time.TimestampFrequency);
        while (true)
        {
            var exists = _arrivals.TryGetValue(key, out var stored);
            var next = Math.Max(stored, now) + step;
            var limit = now + (step * burst);
            if (next > limit)
            {
                return TimeSpan.FromSeconds((double)(next - limit) / time.TimestampFrequency);
            }

            if (exists ? _arrivals.TryUpdate(key, next, stored) : _arrivals.TryAdd(key, next))
            {
                return null;
            }
        }
    }

    /// <summary>Forgets the buckets that are full again, and every bucket <paramref name="keep"/> refuses.</summary>
    public void Sweep(Func<string, bool> keep)
    {
        var now = time.GetTimestamp();
        foreach (var (key, arrival) in _arrivals)
        {
            if (arrival <= now || !keep(key))
            {
                _arrivals.TryRemove(new KeyValuePair<string, long>(key, arrival));
            }
        }
    }
}
