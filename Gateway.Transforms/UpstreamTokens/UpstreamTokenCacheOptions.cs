namespace Gateway.Transforms.UpstreamTokens;

/// <summary>How long upstream tokens and failures are kept.</summary>
public sealed class UpstreamTokenCacheOptions
{
    /// <summary>A token is dropped this long before it expires, so it never reaches an upstream about to expire.</summary>
    public TimeSpan SafetyMargin { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a refusal or outage is remembered, so a failing IdP is not asked on every request.</summary>
    public TimeSpan FailureLifetime { get; set; } = TimeSpan.FromSeconds(5);
}
