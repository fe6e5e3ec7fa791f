namespace Gateway.Transforms.Sessions;

/// <summary>The session a request was pinned to, as found by <see cref="SessionPinningMiddleware"/>.</summary>
/// <param name="Session">The unsealed session.</param>
/// <param name="SealedId">The id exactly as the client sent it, so answers can echo it unchanged.</param>
public sealed record McpSessionFeature(PinnedSession Session, string SealedId);
