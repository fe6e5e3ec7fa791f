using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using IPNetwork = System.Net.IPNetwork;

namespace Gateway.Transforms.Guard;

/// <summary>
/// The proxies in front of the gateway (<c>gateway.trustedProxies</c>) whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> are believed, with ASP.NET Core's forwarded-headers middleware: then the caller's address
/// (anonymous rate limits and stdio sessions, the audit log, the upstream's <c>X-Forwarded-For</c>) and scheme are the
/// client's, not the proxy's. From anyone else the headers are ignored, and never forwarded as sent.
/// </summary>
/// <remarks>
/// <c>X-Forwarded-Host</c> is never taken: the gateway's own URL, for token audiences and OAuth metadata, comes from
/// <c>gateway.publicUrl</c> only.
/// </remarks>
internal static class TrustedProxies
{
    /// <summary>An entry of <c>gateway.trustedProxies</c>: an address (<c>10.0.0.5</c>) or a network (<c>10.0.0.0/8</c>).</summary>
    public static bool TryParse(string entry, out IPNetwork network)
    {
        if (IPAddress.TryParse(entry, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return IPNetwork.TryParse(entry, out network);
    }

    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IReadOnlyList<string> proxies)
    {
        ArgumentNullException.ThrowIfNull(proxies);
        return services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;

            // Only the configured ones: the defaults trust loopback, which a sidecar or a local process could use.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in proxies)
            {
                if (TryParse(proxy, out var network))
                {
                    options.KnownIPNetworks.Add(network);
                }
            }

            // Every trusted hop of a chain (load balancer, then ingress) is walked back; the first untrusted one stops it.
            options.ForwardLimit = null;
        });
    }

    /// <summary>Takes the forwarded headers of trusted proxies, when any are configured; nothing is believed otherwise.</summary>
    public static WebApplication UseTrustedProxies(this WebApplication app, IReadOnlyList<string> proxies)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(proxies);
        if (proxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }
}
