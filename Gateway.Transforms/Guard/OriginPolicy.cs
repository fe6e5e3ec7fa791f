using Gateway.Transforms.Configuration;
using Microsoft.Extensions.Hosting;

namespace Gateway.Transforms.Guard;

/// <summary>
/// Decides which browser origins may call the gateway: the configured allowlist, plus loopback origins when
/// <c>gateway.allowLoopbackOrigins</c> says so (by default only in Development). Requests without <c>Origin</c>
/// (every non-browser client) are not affected.
/// </summary>
internal sealed class OriginPolicy(IHostEnvironment environment)
{
    public bool IsAllowed(string origin, GatewayOptions gateway)
    {
        foreach (var allowed in gateway.AllowedOrigins)
        {
            if (string.Equals(allowed.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return (gateway.AllowLoopbackOrigins ?? environment.IsDevelopment())
            && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https"
            && uri.IsLoopback;
    }
}
