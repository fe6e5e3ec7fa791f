namespace Gateway.Transforms.Pinning;

/// <summary>One server's pins in this replica: the copy, its version in the store, and whether to read it again.</summary>
internal sealed class ToolPinEntry : IDisposable
{
    private long _generation;
    private volatile bool _stale = true;

    /// <summary>Serializes reads and changes of the server's pins.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public ServerToolPins? Pins { get; set; }

    /// <summary>The store's version of <see cref="Pins"/>, which a save must name.</summary>
    public long Version { get; set; }

    /// <summary>Pins decided while the store could not be written, saved when it can be.</summary>
    public ServerToolPins? Unsaved { get; set; }

    /// <summary>While the store is unreachable, when to try reading it again.</summary>
    public DateTimeOffset? ReadAgainAt { get; set; }

    /// <summary>The last list seen, and what it was answered.</summary>
    public ToolListSeen? LastList { get; set; }

    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Whether to read the store before using <see cref="Pins"/>: they are stale, and no failed read asks to wait.</summary>
    public bool NeedsReading(TimeProvider time) => _stale && (ReadAgainAt is not { } at || time.GetUtcNow() >= at);

    /// <summary>The store has changed (another replica's announcement), or an admin needs the freshest.</summary>
    public void MarkStale()
    {
        Interlocked.Increment(ref _generation);
        ReadAgainAt = null;
        _stale = true;
    }

    /// <summary>Fresh, as read at <paramref name="generation"/>, unless marked stale since.</summary>
    public void ClearStale(long generation)
    {
        if (Generation == generation)
        {
            _stale = false;
        }
    }

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
