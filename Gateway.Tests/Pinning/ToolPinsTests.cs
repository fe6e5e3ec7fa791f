using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Pinning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Pinning;

/// <summary>The pins of a replica while its store cannot be read or written, on the gateway's file store and a fake clock.</summary>
public sealed class ToolPinsTests
{
    private static readonly ToolPinningOptions Enforce = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UnreadableStore_IsTriedAgainEveryFewSeconds_NotOnEveryCall_AndNotWrittenOver()
    {
        // A directory where the file should be: it can be neither read nor written.
        var path = Path.Combine(TempDirectory.Create(), "tool-pins.json");
        Directory.CreateDirectory(path);
        var logs = new CapturedLogs();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var store = new FileToolPinStore(path, loggers.CreateLogger("pins"));
        using var pins = TestToolPins.Create(store, time, loggers);
        int Failures() => logs.Entries.Count(e => e.Message.StartsWith("Tool pins: cannot read", StringComparison.Ordinal));

        for (var i = 0; i < 5; i++)
        {
            Assert.Null(await pins.RefusalOfAsync("demo", Enforce, "echo", Ct));
        }

        Assert.Equal(1, Failures());
        time.Advance(TimeSpan.FromSeconds(5));
        await pins.RefusalOfAsync("demo", Enforce, "echo", Ct);
        Assert.Equal(2, Failures());

        // What a list decides meanwhile is enforced from memory, and an admin's change is refused, not made.
        using var list = JsonDocument.Parse("""[{"name":"echo","description":"Returns its input.\u200B"}]""");
        Assert.Equal(["echo"], await pins.ObserveAsync("demo", Enforce, list.RootElement, wholeList: true, lastPage: true, Ct));
        Assert.Equal(ToolPins.Quarantine, await pins.RefusalOfAsync("demo", Enforce, "echo", Ct));
        Assert.Equal(ToolPinUpdateOutcome.NotSaved, (await pins.ApproveAsync("demo", "echo", null, "alice", Ct)).Outcome);
        Assert.Equal(ToolPins.Quarantine, await pins.RefusalOfAsync("demo", Enforce, "echo", Ct));
    }

    [Fact]
    public void WhatWasHeldBackUnsaved_StaysHeldBack_UnlessTheStoreMovedOn()
    {
        var now = DateTimeOffset.UnixEpoch;
        var pending = new PendingDefinition(new string('b', 64), "{}", ToolChangeKind.Changed, now, ["description"], []);
        var stored = new ServerToolPins
        {
            Baseline = true,
            Tools = new Dictionary<string, ToolPin>
            {
                ["echo"] = new() { Pin = new string('a', 64), FirstSeen = now },
                ["fetch"] = new() { Pin = new string('c', 64), FirstSeen = now },
            },
        };
        var unsaved = stored with
        {
            Tools = new Dictionary<string, ToolPin>
            {
                ["echo"] = new() { Pin = new string('a', 64), FirstSeen = now, Pending = pending },
                ["fetch"] = new() { Pin = new string('a', 64), FirstSeen = now, Pending = pending },
                ["note"] = new() { FirstSeen = now, Pending = pending with { Kind = ToolChangeKind.Added } },
            },
        };

        var merged = ToolPinDecision.KeepPending(stored, unsaved);

        Assert.Equal(pending, merged.Tools["echo"].Pending);
        Assert.NotNull(merged.Tools["note"].Pending);

        // Another replica approved fetch meanwhile (its pin is not the one the quarantine was against).
        Assert.Null(merged.Tools["fetch"].Pending);
        Assert.Same(stored, ToolPinDecision.KeepPending(stored, stored));
    }
}
