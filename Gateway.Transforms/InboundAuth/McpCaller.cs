using System.Security.Claims;
using Gateway.Mcp;

namespace Gateway.Transforms.InboundAuth;

/// <summary>
/// Who is calling: the issuer and subject of the caller's token and the client application it was issued to, or
/// anonymous. Made once per request, after authentication; sessions, rate limits and the token cache compare
/// callers by <see cref="Hash"/>, never by the raw names.
/// </summary>
public sealed class McpCaller
{
    private McpCaller(string? issuer, string? subject, string? client)
    {
        Issuer = issuer;
        Subject = subject;
        Client = client;
        var key = subject is null ? string.Empty : issuer + "|" + subject;
        Hash = Sha256Text.Hash(key);
        Id = Convert.ToHexStringLower(Hash.AsSpan(0, 16));
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

    /// <summary>SHA-256 of issuer and subject: what a sealed session id keeps of its owner.</summary>
    public byte[] Hash { get; }

    /// <summary>The first half of <see cref="Hash"/> in hex: how the caller appears in Redis keys.</summary>
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
    private static Claim? SubjectOf(ClaimsPrincipal user) => user.FindFirst("sub") ?? user.FindFirst(ClaimTypes.NameIdentifier);

    private static string? ClientOf(ClaimsPrincipal user) => (user.FindFirst("azp") ?? user.FindFirst("client_id") ?? user.FindFirst("appid"))?.Value;
}
