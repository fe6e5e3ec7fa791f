using System.Security.Claims;

namespace Gateway.Transforms.InboundAuth;

/// <summary>Reads scopes and roles the way the common IdPs write them.</summary>
internal static class TokenClaims
{
    // Keycloak and most OIDC servers write "scope", Entra "scp"; either as one space-separated value or as an array.
    private static readonly string[] ScopeClaims = ["scope", "scp"];

    public static bool HasScope(ClaimsPrincipal user, string scope) =>
        user.Claims.Any(c => ScopeClaims.Contains(c.Type) && c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(scope, StringComparer.Ordinal));

    public static bool HasRole(ClaimsPrincipal user, string role) =>
        user.Claims.Any(c => c.Type is "roles" or ClaimTypes.Role && string.Equals(c.Value, role, StringComparison.Ordinal));
}
