namespace Gateway.Transforms.Pinning;

/// <summary>One server's pins in this replica: the copy, its version in the store, and whether to read it again.</summary>
internal sealed class ToolPinEntry : IDisposable
{
    private long _generation = 1;
    private long _freshGeneration;
    private long _readAgainAtTicks;

    /// <summary>Serializes reads and changes of the server's pins.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public ServerToolPins? Pins { get; set; }

    /// <summary>The store's version of <see cref="Pins"/>, which a save must name.</summary>
    public long Version { get; set; }

    /// <summary>Pins decided while the store could not be written, saved when it can be.</summary>
    public ServerToolPins? Unsaved { get; set; }

    /// <summary>The last list seen, and what it was answered.</summary>
    public ToolListSeen? LastList { get; set; }

    /// <summary>Counts the changes announced; read before a read of the store, to know whether one came during it.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Whether to read the store before using <see cref="Pins"/>: a change came since the last read, and no failure asks to wait.</summary>
    public bool NeedsReading(TimeProvider time) =>
        Interlocked.Read(ref _freshGeneration) != Generation && time.GetUtcNow().UtcTicks >= Interlocked.Read(ref _readAgainAtTicks);

    /// <summary>The store has changed (another replica's announcement), or an admin needs the freshest.</summary>
    public void MarkStale()
    {
        Interlocked.Exchange(ref _readAgainAtTicks, 0);
        Interlocked.Increment(ref _generation);
    }

    /// <summary>The store could not be read or written: stale, but not read again before <paramref name="at"/>.</summary>
    public void RetryLater(DateTimeOffset at)
    {
        Interlocked.Exchange(ref _readAgainAtTicks, at.UtcTicks);
        Interlocked.Exchange(ref _freshGeneration, 0);
    }

    /// <summary>Fresh as read at <paramref name="generation"/>: stale again as soon as a change is announced after it.</summary>
    public void FreshAt(long generation) => Interlocked.Exchange(ref _freshGeneration, generation);

    public void Dispose() => Gate.Dispose();
}

/// <summary>A list answer as it was seen (a copy of its bytes, up to a size), and the names hidden from it.</summary>
internal sealed class ToolListSeen
{
    private const int MaxBytes = 1024 * 1024;

    private readonly byte[] _raw;
    private readonly ToolPinningOptions _options;
    private readonly bool _wholeList;
    private readonly bool _lastPage;
    private readonly ServerToolPins _pins;

    private ToolListSeen(byte[] raw, ToolPinningOptions options, bool wholeList, bool lastPage, ServerToolPins pins, IReadOnlySet<string> hidden) =>
        (_raw, _options, _wholeList, _lastPage, _pins, Hidden) = (raw, options, wholeList, lastPage, pins, hidden);

    public IReadOnlySet<string> Hidden { get; }

    public static ToolListSeen? Of(ReadOnlySpan<byte> raw, ToolPinningOptions options, bool wholeList, bool lastPage, ServerToolPins pins, IReadOnlySet<string> hidden) =>
        raw.Length > MaxBytes ? null : new(raw.ToArray(), options, wholeList, lastPage, pins, hidden);

    public bool Matches(ReadOnlySpan<byte> raw, ToolPinningOptions options, bool wholeList, bool lastPage, ServerToolPins? pins) =>
        ReferenceEquals(options, _options) && ReferenceEquals(pins, _pins) && wholeList == _wholeList && lastPage == _lastPage && raw.SequenceEqual(_raw);
}
