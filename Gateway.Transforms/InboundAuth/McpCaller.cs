using System.Security.Claims;
using Gateway.Mcp;

namespace Gateway.Transforms.InboundAuth;

/// <summary>
/// Who is calling: the issuer and subject of the caller's token and the client application it was issued to, or
/// anonymous. Made once per request, after authentication; sessions and rate limits know callers by hashes only.
/// </summary>
public sealed class McpCaller
{
    private McpCaller(string? issuer, string? subject, string? client)
    {
        Issuer = issuer;
        Subject = subject;
        Client = client;
        var user = subject is null ? string.Empty : issuer + "|" + subject;
        UserHash = Sha256Text.Hash(user);
        Id = Convert.ToHexStringLower(UserHash.Span[..16]);
        SessionOwnerHash = subject is null ? UserHash : Sha256Text.Hash(user + "|" + client);
    }

    /// <summary>The caller every unauthenticated request shares.</summary>
    public static McpCaller Anonymous { get; } = new(null, null, null);

    /// <summary>The token's issuer; null when anonymous.</summary>
    public string? Issuer { get; }

    /// <summary>The token's subject (<c>sub</c>); null when anonymous.</summary>
    public string? Subject { get; }

    /// <summary>The client application the token was issued to (<c>azp</c>, <c>client_id</c>, Entra's <c>appid</c>).</summary>
    public string? Client { get; }

    public bool IsAuthenticated => Subject is not null;

    /// <summary>
    /// SHA-256 of issuer, subject and client: what a sealed session id keeps of its owner, so that neither another
    /// user nor another application of the same user can continue the session.
    /// </summary>
    public ReadOnlyMemory<byte> SessionOwnerHash { get; }

    /// <summary>SHA-256 of issuer and subject alone: what session ids sealed before sessions knew the client kept.</summary>
    public ReadOnlyMemory<byte> UserHash { get; }

    /// <summary>The first half of <see cref="UserHash"/> in hex: the user as rate limits (and Redis keys) know them.</summary>
    public string Id { get; }

    /// <summary>The caller of an authenticated principal with a subject, else <see cref="Anonymous"/>.</summary>
    public static McpCaller Of(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity?.IsAuthenticated != true || SubjectOf(user) is not { } subject)
        {
            return Anonymous;
        }

        return new McpCaller(subject.Issuer, subject.Value, ClientOf(user));
    }

    /// <summary>A caller by name, for tests and tools that have no principal.</summary>
    public static McpCaller For(string issuer, string subject, string? client = null) => new(issuer, subject, client);

    // The subject claim's Issuer is the token's issuer; OIDC names it "sub", WS-Fed NameIdentifier.
    internal static Claim? SubjectOf(ClaimsPrincipal user) => user.FindFirst("sub") ?? user.FindFirst(ClaimTypes.NameIdentifier);

    internal static string? ClientOf(ClaimsPrincipal user) => (user.FindFirst("azp") ?? user.FindFirst("client_id") ?? user.FindFirst("appid"))?.Value;
}
