using Gateway.Transforms.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;

namespace Gateway.Transforms.Guard;

/// <summary>
/// Decides which browser origins may call the gateway: its own (its <c>publicUrl</c>, or an address it listens on),
/// the configured allowlist, and loopback origins when <c>gateway.allowLoopbackOrigins</c> says so (by default only in
/// Development). Requests without <c>Origin</c> (every non-browser client) are not affected.
/// </summary>
/// <remarks>
/// The gateway's own origin is what it is configured or bound as, never the request's <c>Host</c>: under DNS
/// rebinding a foreign page's <c>Origin</c> and <c>Host</c> name the same attacker's host.
/// </remarks>
internal sealed class OriginPolicy(IHostEnvironment environment, IServer server)
{
    public bool IsAllowed(string origin, GatewayOptions gateway)
    {
        if (Matches(origin, gateway.PublicUrl is { } publicUrl && Uri.TryCreate(publicUrl, UriKind.Absolute, out var publicUri) ? publicUri.GetLeftPart(UriPartial.Authority) : null)
            || gateway.AllowedOrigins.Any(allowed => Matches(origin, allowed))
            || (server.Features.Get<IServerAddressesFeature>()?.Addresses.Any(address => Matches(origin, address)) ?? false))
        {
            return true;
        }

        return (gateway.AllowLoopbackOrigins ?? environment.IsDevelopment())
            && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https"
            && uri.IsLoopback;
    }

    private static bool Matches(string origin, string? allowed) =>
        allowed is not null && string.Equals(allowed.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase);
}
