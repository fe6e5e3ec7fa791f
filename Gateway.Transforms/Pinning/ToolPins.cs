using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Gateway.Transforms.Pinning;

/// <summary>
/// The pins of every server's tools: this replica's copy of the store's, kept fresh by the store's announcements and
/// read again before each change is saved (compare and set), so that replicas agree and a change is reported once.
/// While the store is unreachable the copy in memory is enforced, read again every few seconds, and what lists
/// decide meanwhile is kept until it can be saved.
/// </summary>
internal sealed class ToolPins : IDisposable
{
    /// <summary>The audit event's rule for a tool whose definition waits for approval.</summary>
    public const string Quarantine = "toolPinning quarantine";

    /// <summary>The audit event's rule for a tool the server has not listed since its first list.</summary>
    public const string Unlisted = "toolPinning unlisted";

    private const int SaveAttempts = 3;
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, ToolPinEntry> _servers = new(StringComparer.Ordinal);
    private readonly IToolPinStore _store;
    private readonly ToolPinReporter _report;
    private readonly TimeProvider _time;

    public ToolPins(IToolPinStore store, ToolPinReporter report, TimeProvider time)
    {
        (_store, _report, _time) = (store, report, time);
        _store.ChangedElsewhere += server =>
        {
            foreach (var (name, entry) in _servers)
            {
                if (server is null || name == server)
                {
                    entry.MarkStale();
                }
            }
        };
    }

    /// <summary>
    /// Takes note of a <c>tools/list</c> answer of <paramref name="server"/> (its <c>tools</c> array): pins what is
    /// trusted, reports what changed, and gives the names to hide from it (none unless <see cref="ToolPinningMode.Enforce"/>).
    /// </summary>
    /// <remarks>
    /// A server answers the same list over and over: when the array is byte for byte the last one seen, under the
    /// same pins and options, the last answer is given again without reading a definition.
    /// </remarks>
    public async ValueTask<IReadOnlySet<string>> ObserveAsync(
        string server, ToolPinningOptions options, JsonElement tools, bool wholeList, bool lastPage, CancellationToken cancellationToken)
    {
        var entry = EntryOf(server);
        if (entry.LastList is { } last && !entry.NeedsReading(_time) && last.Matches(JsonMarshal.GetRawUtf8Value(tools), options, wholeList, lastPage, entry.Pins))
        {
            return last.Hidden;
        }

        var definitions = tools.EnumerateArray().Select(ToolDefinition.Of).OfType<ToolDefinition>().ToList();
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (pins, changes, _) = await ChangeAsync(server, entry, keepUnsaved: true, current =>
                ToolPinDecision.Decide(current, options.Pins, definitions, wholeList, lastPage, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            IReadOnlySet<string> hidden = options.Mode != ToolPinningMode.Enforce
                ? FrozenSet<string>.Empty
                : definitions.Where(t => pins.Tools.GetValueOrDefault(t.Name)?.Pending is not null).Select(t => t.Name).ToFrozenSet(StringComparer.Ordinal);
            entry.LastList = ToolListSeen.Of(JsonMarshal.GetRawUtf8Value(tools), options, wholeList, lastPage, pins, hidden);
            _report.Changes(server, options.Mode, changes ?? []);
            return hidden;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>
    /// Why a <c>tools/call</c> of <paramref name="tool"/> is refused: its definition waits for approval, or the server
    /// has not listed such a tool since its first list; null when it may be called.
    /// </summary>
    public ValueTask<string?> RefusalOfAsync(string server, ToolPinningOptions options, string tool, CancellationToken cancellationToken)
    {
        if (options.Mode != ToolPinningMode.Enforce)
        {
            return ValueTask.FromResult<string?>(null);
        }

        var pins = PinsAsync(server, cancellationToken);
        return pins.IsCompletedSuccessfully ? ValueTask.FromResult(RefusalOf(pins.Result, options, tool)) : RefusalOfAsync(pins, options, tool);
    }

    /// <summary>
    /// The tools of a list replayed on a resumed GET stream (an old answer, not learned from) that are not the
    /// definitions pinned now, or wait for approval: they are hidden from it (none unless <see cref="ToolPinningMode.Enforce"/>).
    /// </summary>
    public async ValueTask<IReadOnlySet<string>> HeldBackAsync(string server, ToolPinningOptions options, JsonElement tools, CancellationToken cancellationToken)
    {
        if (options.Mode != ToolPinningMode.Enforce)
        {
            return FrozenSet<string>.Empty;
        }

        var pins = await PinsAsync(server, cancellationToken).ConfigureAwait(false);
        return tools.EnumerateArray().Select(ToolDefinition.Of).OfType<ToolDefinition>()
            .Where(t => pins.Tools.GetValueOrDefault(t.Name) is var record && (record?.Pending is not null || (options.Pins.GetValueOrDefault(t.Name) ?? record?.Pin) != t.Pin))
            .Select(t => t.Name)
            .ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>The server's pins as the store has them now (this replica's copy while it is unreachable).</summary>
    public async ValueTask<ServerToolPins> CurrentAsync(string server, CancellationToken cancellationToken)
    {
        var entry = EntryOf(server);
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            entry.MarkStale();
            return await ReadAsync(server, entry, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Pins the definition of <paramref name="tool"/> that waits for approval, if it is <paramref name="expectedPin"/> (when given).</summary>
    public ValueTask<ToolPinUpdate> ApproveAsync(string server, string tool, string? expectedPin, string? by, CancellationToken cancellationToken) =>
        UpdateAsync(server, tool, by, ToolChangeKind.Approved, record => record.Pending switch
        {
            null => (null, ToolPinUpdateOutcome.NothingPending),
            { } pending when expectedPin is not null && pending.Pin != expectedPin => (null, ToolPinUpdateOutcome.PinMismatch),
            { } pending => (record with { Pin = pending.Pin, Definition = pending.Definition, PinnedAt = _time.GetUtcNow(), Pending = null, Removed = false }, ToolPinUpdateOutcome.Done),
        }, cancellationToken);

    /// <summary>Forgets the pin of <paramref name="tool"/>: seen again, it is a new tool (trusted on first use only while the server has no pins).</summary>
    public ValueTask<ToolPinUpdate> ForgetAsync(string server, string tool, string? by, CancellationToken cancellationToken) =>
        UpdateAsync(server, tool, by, ToolChangeKind.Forgotten, static _ => (null, ToolPinUpdateOutcome.Done), cancellationToken);

    public void Dispose()
    {
        foreach (var entry in _servers.Values)
        {
            entry.Dispose();
        }
    }

    private ToolPinEntry EntryOf(string server) => _servers.GetOrAdd(server, static _ => new ToolPinEntry());

    /// <summary>An admin's change of one tool's record: <paramref name="decide"/> gives the record after it (null: removed) and the outcome; an outcome other than Done changes nothing.</summary>
    private async ValueTask<ToolPinUpdate> UpdateAsync(
        string server, string tool, string? by, ToolChangeKind kind, Func<ToolPin, (ToolPin? After, ToolPinUpdateOutcome Outcome)> decide, CancellationToken cancellationToken)
    {
        var entry = EntryOf(server);
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // An admin decides on the freshest pins.
            entry.MarkStale();
            var (_, update, saved) = await ChangeAsync(server, entry, keepUnsaved: false, current =>
            {
                if (current.Tools.GetValueOrDefault(tool) is not { } before)
                {
                    return (current, new ToolPinUpdate(ToolPinUpdateOutcome.Unknown, null, null));
                }

                var (after, outcome) = decide(before);
                if (outcome != ToolPinUpdateOutcome.Done)
                {
                    return (current, new ToolPinUpdate(outcome, before, before));
                }

                var next = current.With(tool, after);

                // The last pin forgotten: the server's next list is trusted as a first one.
                return (next.Tools.Count == 0 ? ServerToolPins.Empty : next, new ToolPinUpdate(outcome, before, after));
            }, cancellationToken).ConfigureAwait(false);

            if (update!.Outcome != ToolPinUpdateOutcome.Done)
            {
                return update;
            }

            if (!saved)
            {
                // Nothing was changed, in the store or here.
                return update with { Outcome = ToolPinUpdateOutcome.NotSaved };
            }

            _report.Decision(server, tool, kind, update.Before!, update.After, by);
            return update;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>
    /// Applies <paramref name="decide"/> to the server's pins and saves the result if it changed them, deciding again on
    /// what another replica saved first. Unsaved (the store unreachable), the pins in memory become the result when
    /// <paramref name="keepUnsaved"/>, else stay as they were. Under the entry's gate.
    /// </summary>
    private async ValueTask<(ServerToolPins Pins, T? Result, bool Saved)> ChangeAsync<T>(
        string server, ToolPinEntry entry, bool keepUnsaved, Func<ServerToolPins, (ServerToolPins Next, T Result)> decide, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var pins = await ReadAsync(server, entry, cancellationToken).ConfigureAwait(false);
            var (next, result) = decide(pins);
            if (ReferenceEquals(next, pins))
            {
                return (pins, result, true);
            }

            var saved = await _store.SaveAsync(server, next, entry.Version, cancellationToken).ConfigureAwait(false);
            if (saved.Outcome == ToolPinSaveOutcome.Conflict && attempt < SaveAttempts)
            {
                entry.MarkStale();
                continue;
            }

            if (saved.Outcome == ToolPinSaveOutcome.Saved)
            {
                (entry.Pins, entry.Version, entry.Unsaved) = (next, saved.Version, null);
            }
            else if (keepUnsaved)
            {
                (entry.Pins, entry.Unsaved) = (next, next);

                // Read (and save) again in a few seconds, not when something else happens to ask.
                entry.RetryLater(_time.GetUtcNow() + RetryAfter);
            }

            return (keepUnsaved || saved.Outcome == ToolPinSaveOutcome.Saved ? next : pins, result, saved.Outcome == ToolPinSaveOutcome.Saved);
        }
    }

    private static async ValueTask<string?> RefusalOfAsync(ValueTask<ServerToolPins> pins, ToolPinningOptions options, string tool) =>
        RefusalOf(await pins.ConfigureAwait(false), options, tool);

    /// <summary>The server's pins: this replica's copy (kept fresh by the store's announcements), read from the store first when it is stale.</summary>
    public ValueTask<ServerToolPins> PinsAsync(string server, CancellationToken cancellationToken) =>
        _servers.TryGetValue(server, out var entry) && entry.Pins is { } pins && !entry.NeedsReading(_time)
            ? ValueTask.FromResult(pins)
            : ReadUnderGateAsync(server, cancellationToken);

    private async ValueTask<ServerToolPins> ReadUnderGateAsync(string server, CancellationToken cancellationToken)
    {
        var entry = EntryOf(server);
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadAsync(server, entry, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private static string? RefusalOf(ServerToolPins pins, ToolPinningOptions options, string tool) =>
        pins.Tools.TryGetValue(tool, out var record)
            ? record.Pending is not null ? Quarantine : record.Removed ? Unlisted : null
            : pins.Baseline && !options.Pins.ContainsKey(tool) ? Unlisted : null;

    /// <summary>
    /// The entry's pins, read from the store first when they are stale (with what lists decided while it was
    /// unreachable kept); the copy in memory when it cannot be read, until a few seconds have passed. Under the entry's gate.
    /// </summary>
    private async ValueTask<ServerToolPins> ReadAsync(string server, ToolPinEntry entry, CancellationToken cancellationToken)
    {
        if (entry.Pins is { } known && !entry.NeedsReading(_time))
        {
            return known;
        }

        var generation = entry.Generation;
        if (await _store.LoadAsync(server, cancellationToken).ConfigureAwait(false) is not { } stored)
        {
            entry.RetryLater(_time.GetUtcNow() + RetryAfter);
            return entry.Pins ??= ServerToolPins.Empty;
        }

        (entry.Pins, entry.Version) = (stored.Pins, stored.Version);
        if (entry.Unsaved is { } unsaved)
        {
            var merged = ToolPinDecision.KeepPending(stored.Pins, unsaved);
            var saved = ReferenceEquals(merged, stored.Pins) ? ToolPinSave.Saved(stored.Version) : await _store.SaveAsync(server, merged, stored.Version, cancellationToken).ConfigureAwait(false);
            entry.Pins = merged;
            if (saved.Outcome != ToolPinSaveOutcome.Saved)
            {
                entry.RetryLater(_time.GetUtcNow() + RetryAfter);
                return merged;
            }

            (entry.Version, entry.Unsaved) = (saved.Version, null);
        }

        // Unless another replica announced a change while this one read.
        entry.FreshAt(generation);
        return entry.Pins;
    }
}

/// <summary>What an admin's approval or removal of a pin did, and the tool's record before and after it.</summary>
internal sealed record ToolPinUpdate(ToolPinUpdateOutcome Outcome, ToolPin? Before, ToolPin? After);

internal enum ToolPinUpdateOutcome
{
    /// <summary>Approved, or forgotten, and saved.</summary>
    Done,

    /// <summary>The gateway has seen no such tool of the server.</summary>
    Unknown,

    /// <summary>No definition of the tool waits for approval.</summary>
    NothingPending,

    /// <summary>The definition waiting is not the one the admin approved.</summary>
    PinMismatch,

    /// <summary>The store could not be written: nothing changed.</summary>
    NotSaved,
}
