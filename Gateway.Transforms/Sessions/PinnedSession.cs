namespace Gateway.Transforms.Sessions;

/// <summary>The contents of a sealed session id: where a session lives upstream and who owns it.</summary>
/// <param name="Server">The configured server name the session belongs to.</param>
/// <param name="Destination">The address of the upstream destination that created the session.</param>
/// <param name="UpstreamSessionId">The <c>Mcp-Session-Id</c> the upstream issued.</param>
/// <param name="IssuedAt">When the gateway sealed it.</param>
public sealed record PinnedSession(string Server, string Destination, string UpstreamSessionId, DateTimeOffset IssuedAt);

/// <summary>Why a sealed session id was not honoured; every outcome but <see cref="Valid"/> is a 404 to the client.</summary>
public enum UnsealOutcome
{
    /// <summary>The id is genuine, current and the caller's own.</summary>
    Valid,

    /// <summary>Not an id this gateway's key ring sealed: forged, tampered, truncated or from another deployment.</summary>
    Forged,

    /// <summary>Sealed for another server.</summary>
    OtherServer,

    /// <summary>Sealed for another caller.</summary>
    OtherCaller,

    /// <summary>Older than <see cref="SessionOptions.Lifetime"/>.</summary>
    Expired,
}
