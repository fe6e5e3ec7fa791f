using System.ComponentModel;

namespace Gateway.Transforms.UpstreamTokens;

/// <summary>Why a token for an upstream could not be had.</summary>
public enum UpstreamTokenFailure
{
    /// <summary>A token was issued.</summary>
    None,

    /// <summary>The IdP answered and refused (invalid_grant, unauthorized_client, …): retrying will not help.</summary>
    Refused,

    /// <summary>The IdP could not be reached or failed: retrying later may help.</summary>
    Unreachable,
}

/// <summary>A token for one upstream, or why there is none. Immutable, so the in-memory cache hands out one instance.</summary>
[ImmutableObject(true)]
public sealed record UpstreamToken(string? AccessToken, DateTimeOffset ExpiresAt, UpstreamTokenFailure Failure, string? Error)
{
    /// <summary>A token that can be used until <paramref name="expiresAt"/>.</summary>
    public static UpstreamToken Issued(string accessToken, DateTimeOffset expiresAt) => new(accessToken, expiresAt, UpstreamTokenFailure.None, null);

    /// <summary>No token, for <paramref name="error"/> (said to the caller: it must not carry secrets).</summary>
    public static UpstreamToken Failed(UpstreamTokenFailure failure, string error) => new(null, DateTimeOffset.MinValue, failure, error);

    /// <summary>Whether there is a token.</summary>
    public bool Succeeded => Failure == UpstreamTokenFailure.None;
}
