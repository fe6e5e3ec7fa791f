namespace Gateway.Transforms.Sessions;

/// <summary>How sealed session ids are issued and honoured.</summary>
public sealed class SessionPinningOptions
{
    /// <summary>How long a sealed session id is honoured after it was issued; clients re-initialize after it.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(24);
}
