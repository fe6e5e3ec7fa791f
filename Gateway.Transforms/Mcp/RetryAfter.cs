using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Gateway.Mcp;

/// <summary>The <c>Retry-After</c> of a refusal the client may retry: whole seconds, at least one.</summary>
internal static class RetryAfter
{
    /// <summary>For an outage whose end nobody knows (an IdP or upstream down, a busy stdio server).</summary>
    public static readonly TimeSpan Unknown = TimeSpan.FromSeconds(5);

    public static void Set(HttpResponse response, TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
    }
}
