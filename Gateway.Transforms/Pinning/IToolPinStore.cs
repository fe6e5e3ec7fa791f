namespace Gateway.Transforms.Pinning;

/// <summary>Where the pins are kept beyond this process: Redis for replicas, a file for one gateway.</summary>
internal interface IToolPinStore
{
    /// <summary>Raised when another replica changed a server's pins (its name), or with null when all may have changed (Redis came back).</summary>
    event Action<string?>? ChangedElsewhere;

    /// <summary>The server's pins and their version; null when the store cannot be read now.</summary>
    ValueTask<StoredToolPins?> LoadAsync(string server, CancellationToken cancellationToken);

    /// <summary>Replaces the server's pins if they are still at <paramref name="version"/>.</summary>
    ValueTask<ToolPinSave> SaveAsync(string server, ServerToolPins pins, long version, CancellationToken cancellationToken);
}

/// <summary>A server's pins as the store holds them, with the version a save must name.</summary>
internal sealed record StoredToolPins(ServerToolPins Pins, long Version);

/// <summary>How a save went: saved at a new version, refused because another wrote first, or the store unreachable.</summary>
internal readonly record struct ToolPinSave(ToolPinSaveOutcome Outcome, long Version)
{
    public static ToolPinSave Saved(long version) => new(ToolPinSaveOutcome.Saved, version);

    public static readonly ToolPinSave Conflict = new(ToolPinSaveOutcome.Conflict, 0);

    public static readonly ToolPinSave Unavailable = new(ToolPinSaveOutcome.Unavailable, 0);
}

internal enum ToolPinSaveOutcome
{
    Saved,
    Conflict,
    Unavailable,
}
