using System.Collections.Concurrent;
using Gateway.Transforms.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.Pinning;

/// <summary>
/// The pins of every server's tools: this replica's copy of the store's, kept fresh by the store's announcements and
/// read again before each change is saved, so that replicas agree and a change is reported once. While the store
/// is unreachable the copy in memory is enforced, and changes are made in it alone.
/// </summary>
internal sealed partial class ToolPins : IDisposable
{
    /// <summary>The audit event's rule for a tool whose definition waits for approval.</summary>
    public const string Quarantine = "toolPinning quarantine";

    /// <summary>The audit event's rule for a tool the server has not listed since its first list.</summary>
    public const string Unlisted = "toolPinning unlisted";

    private const int SaveAttempts = 3;

    private readonly ConcurrentDictionary<string, Entry> _servers = new(StringComparer.Ordinal);
    private readonly IToolPinStore _store;
    private readonly McpAuditLog _audit;
    private readonly McpMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ToolPins(IToolPinStore store, McpAuditLog audit, McpMetrics metrics, TimeProvider time, ILogger<ToolPins> logger)
    {
        (_store, _audit, _metrics, _time, _logger) = (store, audit, metrics, time, logger);
        _store.ChangedElsewhere += server =>
        {
            foreach (var (name, entry) in _servers)
            {
                if (server is null || name == server)
                {
                    entry.Stale = true;
                }
            }
        };
    }

    /// <summary>
    /// Takes note of a <c>tools/list</c> answer of <paramref name="server"/>: pins what is trusted, reports what
    /// changed, and gives the names to hide from it (none unless <see cref="ToolPinningMode.Enforce"/>).
    /// </summary>
    public async ValueTask<IReadOnlySet<string>> ObserveAsync(
        string server, ToolPinningOptions options, IReadOnlyList<ToolDefinition> tools, bool wholeList, bool lastPage, CancellationToken cancellationToken)
    {
        var entry = _servers.GetOrAdd(server, static _ => new Entry());
        ServerToolPins pins;
        IReadOnlyList<ToolChange> changes = [];
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            pins = await FreshAsync(server, entry, cancellationToken).ConfigureAwait(false);
            for (var attempt = 1; ; attempt++)
            {
                var (next, found) = ToolPinDecision.Decide(pins, options.Pins, tools, wholeList, lastPage, _time.GetUtcNow());
                if (ReferenceEquals(next, pins))
                {
                    break;
                }

                var saved = await _store.SaveAsync(server, next, entry.Version, cancellationToken).ConfigureAwait(false);
                if (saved.Outcome == ToolPinSaveOutcome.Conflict && attempt < SaveAttempts)
                {
                    // Another replica wrote first: decide again on what it wrote, so that a change is reported once.
                    entry.Stale = true;
                    pins = await FreshAsync(server, entry, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                (entry.Pins, pins, changes) = (next, next, found);
                if (saved.Outcome == ToolPinSaveOutcome.Saved)
                {
                    entry.Version = saved.Version;
                }

                break;
            }
        }
        finally
        {
            entry.Gate.Release();
        }

        Report(server, options.Mode, changes);
        if (options.Mode != ToolPinningMode.Enforce)
        {
            return new HashSet<string>();
        }

        return tools.Where(t => pins.Tools.GetValueOrDefault(t.Name)?.Pending is not null).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Why a <c>tools/call</c> of <paramref name="tool"/> is refused: its definition waits for approval, or the server
    /// listed no such tool since its first list; null when it may be called.
    /// </summary>
    public ValueTask<string?> RefusalOfAsync(string server, ToolPinningOptions options, string tool, CancellationToken cancellationToken)
    {
        if (options.Mode != ToolPinningMode.Enforce)
        {
            return ValueTask.FromResult<string?>(null);
        }

        return _servers.TryGetValue(server, out var entry) && entry.Pins is { } pins && !entry.Stale
            ? ValueTask.FromResult(RefusalOf(pins, options, tool))
            : RefusalOfLoadedAsync(server, options, tool, cancellationToken);
    }

    /// <summary>The server's pins as the store has them now (this replica's copy while it is unreachable).</summary>
    public async ValueTask<ServerToolPins> CurrentAsync(string server, CancellationToken cancellationToken)
    {
        var entry = _servers.GetOrAdd(server, static _ => new Entry());
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            entry.Stale = true;
            return await FreshAsync(server, entry, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Pins the definition of <paramref name="tool"/> that waits for approval; false when none does.</summary>
    public ValueTask<ToolPinUpdate> ApproveAsync(string server, string tool, string? by, CancellationToken cancellationToken) =>
        UpdateAsync(server, tool, by, ToolChangeKind.Approved, static record => record.Pending is { } pending
            ? record with { Pin = pending.Pin, Definition = pending.Definition, PinnedAt = null, Pending = null, Removed = false }
            : record, cancellationToken);

    /// <summary>Forgets the pin of <paramref name="tool"/>: seen again, it is a new tool (trusted on first use only while the server has no pins).</summary>
    public ValueTask<ToolPinUpdate> ForgetAsync(string server, string tool, string? by, CancellationToken cancellationToken) =>
        UpdateAsync(server, tool, by, ToolChangeKind.Forgotten, static _ => null, cancellationToken);

    private async ValueTask<ToolPinUpdate> UpdateAsync(string server, string tool, string? by, ToolChangeKind kind, Func<ToolPin, ToolPin?> update, CancellationToken cancellationToken)
    {
        var entry = _servers.GetOrAdd(server, static _ => new Entry());
        ToolPin? before;
        ToolPin? after;
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            entry.Stale = true;
            for (var attempt = 1; ; attempt++)
            {
                var pins = await FreshAsync(server, entry, cancellationToken).ConfigureAwait(false);
                before = pins.Tools.GetValueOrDefault(tool);
                if (before is null)
                {
                    return new ToolPinUpdate(false, null);
                }

                after = update(before);
                if (ReferenceEquals(after, before))
                {
                    return new ToolPinUpdate(true, after);
                }

                if (after is not null)
                {
                    after = after with { PinnedAt = _time.GetUtcNow() };
                }

                var next = pins.With(tool, after);
                if (next.Tools.Count == 0)
                {
                    // The last pin forgotten: the server's next list is trusted as a first one.
                    next = ServerToolPins.Empty;
                }

                var saved = await _store.SaveAsync(server, next, entry.Version, cancellationToken).ConfigureAwait(false);
                if (saved.Outcome == ToolPinSaveOutcome.Conflict && attempt < SaveAttempts)
                {
                    entry.Stale = true;
                    continue;
                }

                entry.Pins = next;
                if (saved.Outcome == ToolPinSaveOutcome.Saved)
                {
                    entry.Version = saved.Version;
                }

                break;
            }
        }
        finally
        {
            entry.Gate.Release();
        }

        var change = kind.NameOf();
        _audit.Write(new ToolChangeAuditEvent(server, tool, change, change, before.Pin, after?.Pin,
            ToolDefinition.DescriptionOf(ToolDefinition.Parse(before.Definition)), ToolDefinition.DescriptionOf(ToolDefinition.Parse(after?.Definition)), null, null, by));
        LogDecision(_logger, server, tool, change, by);
        return new ToolPinUpdate(true, after);
    }

    public void Dispose()
    {
        foreach (var entry in _servers.Values)
        {
            entry.Dispose();
        }
    }

    private async ValueTask<string?> RefusalOfLoadedAsync(string server, ToolPinningOptions options, string tool, CancellationToken cancellationToken)
    {
        var entry = _servers.GetOrAdd(server, static _ => new Entry());
        await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return RefusalOf(await FreshAsync(server, entry, cancellationToken).ConfigureAwait(false), options, tool);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private static string? RefusalOf(ServerToolPins pins, ToolPinningOptions options, string tool) =>
        pins.Tools.TryGetValue(tool, out var record)
            ? record.Pending is null ? null : Quarantine
            : pins.Baseline && !options.Pins.ContainsKey(tool) ? Unlisted : null;

    /// <summary>The entry's pins, read from the store first when they are stale; the copy in memory when it cannot be read. Under the entry's gate.</summary>
    private async ValueTask<ServerToolPins> FreshAsync(string server, Entry entry, CancellationToken cancellationToken)
    {
        if (entry.Pins is { } known && !entry.Stale)
        {
            return known;
        }

        entry.Stale = false;
        if (await _store.LoadAsync(server, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            (entry.Pins, entry.Version) = (stored.Pins, stored.Version);
        }
        else
        {
            // Unreachable: enforce what is known, and read again next time.
            entry.Stale = true;
            entry.Pins ??= ServerToolPins.Empty;
        }

        return entry.Pins;
    }

    private void Report(string server, ToolPinningMode mode, IReadOnlyList<ToolChange> changes)
    {
        var trusted = 0;
        foreach (var change in changes)
        {
            var kind = change.Kind.NameOf();
            var action = change.Kind switch
            {
                ToolChangeKind.Pinned => "pinned",
                ToolChangeKind.Removed => "noted",
                _ => mode == ToolPinningMode.Enforce ? "quarantined" : "alerted",
            };
            _audit.Write(new ToolChangeAuditEvent(server, change.Tool, kind, action, change.OldPin, change.NewPin, change.OldDescription, change.NewDescription,
                change.ChangedPaths.Count == 0 ? null : string.Join(", ", change.ChangedPaths),
                change.HiddenCharacters.Count == 0 ? null : string.Join(", ", change.HiddenCharacters), null));
            if (change.Kind == ToolChangeKind.Pinned)
            {
                trusted++;
                continue;
            }

            _metrics.RecordToolDefinitionChange(server, change.Tool, kind);
            LogChange(_logger, server, change.Tool, kind, action,
                change.HiddenCharacters.Count > 0 ? string.Join(", ", change.HiddenCharacters) : change.ChangedPaths.Count > 0 ? string.Join(", ", change.ChangedPaths) : "-");
        }

        if (trusted > 0)
        {
            LogTrusted(_logger, server, trusted);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool {Server}/{Tool}: definition {Change} ({Detail}); {Action}. GET /api/v1/services/<server>/tools shows it, POST .../tools/<tool>/approve pins it.")]
    private static partial void LogChange(ILogger logger, string server, string tool, string change, string action, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool pins: {Count} tools of {Server} pinned on first use.")]
    private static partial void LogTrusted(ILogger logger, string server, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool {Server}/{Tool}: pin {Change} by {By}.")]
    private static partial void LogDecision(ILogger logger, string server, string tool, string change, string? by);

    private sealed class Entry : IDisposable
    {
        public readonly SemaphoreSlim Gate = new(1, 1);

        public volatile ServerToolPins? Pins;

        public volatile bool Stale = true;

        public long Version;

        public void Dispose() => Gate.Dispose();
    }
}

/// <summary>What an admin's approval or removal did: whether the tool was known, and its pin now.</summary>
internal sealed record ToolPinUpdate(bool Known, ToolPin? Pin);
