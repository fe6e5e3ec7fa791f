using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Sessions;

/// <summary>Who is calling, as far as session ownership is concerned: issuer and subject, or anonymous.</summary>
public static class CallerIdentity
{
    /// <summary>The caller every unauthenticated request shares.</summary>
    public const string Anonymous = "";

    /// <summary>Returns <c>issuer|subject</c> of an authenticated caller, or <see cref="Anonymous"/>.</summary>
    public static string Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            return Anonymous;
        }

        var subject = SubjectOf(user);
        return subject is null ? Anonymous : subject.Issuer + "|" + subject.Value;
    }

    /// <summary>The subject claim (its <see cref="Claim.Issuer"/> is the token's issuer), as OIDC or WS-Fed name it.</summary>
    public static Claim? SubjectOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirst("sub") ?? user.FindFirst(ClaimTypes.NameIdentifier);
    }

    /// <summary>The client application the token was issued to, as OIDC servers (azp, client_id) and Entra (appid) name it.</summary>
    public static string? ClientOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return (user.FindFirst("azp") ?? user.FindFirst("client_id") ?? user.FindFirst("appid"))?.Value;
    }
}
