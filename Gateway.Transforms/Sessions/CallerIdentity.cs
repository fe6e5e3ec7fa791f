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

        var subject = user.FindFirst("sub") ?? user.FindFirst(ClaimTypes.NameIdentifier);
        return subject is null ? Anonymous : subject.Issuer + "|" + subject.Value;
    }
}
