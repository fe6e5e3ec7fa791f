namespace Gateway.Transforms.Pinning;

/// <summary>
/// What a server's tool list means for its pins: a definition that matches its pin (from routes.yaml, else learned)
/// passes; the first whole list of a server is trusted as it is; after it, a tool that is new, changed, or hides
/// characters waits for approval (<see cref="ToolPin.Pending"/>), and a pinned tool missing from a whole list is
/// marked removed. Pure: the same pins and list give the same answer on every replica.
/// </summary>
internal static class ToolPinDecision
{
    /// <summary>The pins after <paramref name="tools"/> was seen, and what changed; the same <paramref name="current"/> instance when nothing did.</summary>
    /// <param name="current">The server's pins.</param>
    /// <param name="configured">The pins routes.yaml gives ahead.</param>
    /// <param name="tools">The tools of the answer.</param>
    /// <param name="wholeList">The answer is the whole list: asked for without a cursor, and given without a next one.</param>
    /// <param name="lastPage">The answer has no next cursor, so the server's first list is complete with it.</param>
    /// <param name="now">When it was seen.</param>
    public static (ServerToolPins Pins, IReadOnlyList<ToolChange> Changes) Decide(
        ServerToolPins current, IReadOnlyDictionary<string, string> configured, IReadOnlyList<ToolDefinition> tools, bool wholeList, bool lastPage, DateTimeOffset now)
    {
        var changes = new List<ToolChange>();
        Dictionary<string, ToolPin>? next = null;
        foreach (var tool in tools)
        {
            var record = (next ?? current.Tools).GetValueOrDefault(tool.Name);
            var pinned = configured.GetValueOrDefault(tool.Name) ?? record?.Pin;
            var updated = Decide(record, pinned, tool, current.Baseline, now, changes);
            if (!ReferenceEquals(updated, record))
            {
                // One copy of the pins for the whole list: a copy for each change would cost the list's length squared.
                (next ??= new Dictionary<string, ToolPin>(current.Tools, StringComparer.Ordinal))[tool.Name] = updated;
            }
        }

        if (wholeList)
        {
            var listed = tools.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, record) in current.Tools)
            {
                if (!listed.Contains(name) && !record.Removed)
                {
                    (next ??= new Dictionary<string, ToolPin>(current.Tools, StringComparer.Ordinal))[name] = record with { Removed = true };
                    changes.Add(new ToolChange(name, ToolChangeKind.Removed, record.Pin, null, ToolDefinition.DescriptionOf(ToolDefinition.Parse(record.Definition)), null, [], []));
                }
            }
        }

        // An empty first list (a server still starting) is no baseline: every tool it lists later would be new.
        var baseline = current.Baseline || (lastPage && (next ?? current.Tools).Count > 0);
        return next is null && baseline == current.Baseline ? (current, changes) : (current with { Tools = next ?? current.Tools, Baseline = baseline }, changes);
    }

    /// <summary>
    /// The pins read from the store, with what <paramref name="unsaved"/> decided kept where the store still has the
    /// tool as it was: what was quarantined while the store could not be written stays quarantined, and what was
    /// pinned on first use then is kept while the store has no first list of its own.
    /// </summary>
    public static ServerToolPins KeepPending(ServerToolPins stored, ServerToolPins unsaved)
    {
        Dictionary<string, ToolPin>? next = null;
        foreach (var (name, record) in unsaved.Tools)
        {
            var current = stored.Tools.GetValueOrDefault(name);
            var keep = record.Pending is not null
                ? current is null || (current.Pending is null && current.Pin == record.Pin)
                : current is null && !stored.Baseline;
            if (keep)
            {
                (next ??= new Dictionary<string, ToolPin>(stored.Tools, StringComparer.Ordinal))[name] = record;
            }
        }

        // The first list's baseline goes with the pins learned from it, not without them.
        var baseline = stored.Baseline || (unsaved.Baseline && next is not null);
        return next is null && baseline == stored.Baseline ? stored : stored with { Tools = next ?? stored.Tools, Baseline = baseline };
    }

    private static ToolPin Decide(ToolPin? record, string? pinned, ToolDefinition tool, bool baseline, DateTimeOffset now, List<ToolChange> changes)
    {
        if (pinned == tool.Pin)
        {
            // As approved; a definition an admin approved may hide characters: it was looked at.
            return record is { Pending: null, Removed: false, Definition: not null }
                ? record
                : new ToolPin { Pin = pinned, Definition = tool.Json, FirstSeen = record?.FirstSeen ?? now, PinnedAt = record?.PinnedAt ?? now };
        }

        if (record?.Pending?.Pin == tool.Pin)
        {
            // Waiting for approval already, and reported when first seen.
            return record.Removed ? record with { Removed = false } : record;
        }

        if (pinned is null && tool.HiddenCharacters.Count == 0 && !baseline && record is null)
        {
            changes.Add(new ToolChange(tool.Name, ToolChangeKind.Pinned, null, tool.Pin, null, ToolDefinition.DescriptionOf(ToolDefinition.Parse(tool.Json)), [], []));
            return new ToolPin { Pin = tool.Pin, Definition = tool.Json, FirstSeen = now, PinnedAt = now };
        }

        var kind = tool.HiddenCharacters.Count > 0 ? ToolChangeKind.SuspiciousCharacters : pinned is null ? ToolChangeKind.Added : ToolChangeKind.Changed;
        var before = ToolDefinition.Parse(record?.Definition);
        var after = ToolDefinition.Parse(tool.Json);
        IReadOnlyList<string> paths = pinned is null ? [] : before is null ? ["(pinned in routes.yaml: the pinned definition is not known)"] : ToolDefinition.ChangedPaths(before, after);
        changes.Add(new ToolChange(tool.Name, kind, pinned, tool.Pin, ToolDefinition.DescriptionOf(before), ToolDefinition.DescriptionOf(after), paths, tool.HiddenCharacters));
        return (record ?? new ToolPin { FirstSeen = now }) with
        {
            Pending = new PendingDefinition(tool.Pin, tool.Json, kind, now, paths, tool.HiddenCharacters),
            Removed = false,
        };
    }
}

/// <summary>A change of one tool's definition, as reported: the pins and descriptions before and after, the changed paths, the hidden characters found.</summary>
internal sealed record ToolChange(
    string Tool, ToolChangeKind Kind, string? OldPin, string? NewPin, string? OldDescription, string? NewDescription,
    IReadOnlyList<string> ChangedPaths, IReadOnlyList<string> HiddenCharacters);
