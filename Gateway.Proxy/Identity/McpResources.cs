using Gateway.Proxy.Configuration;
using Gateway.Proxy.Forwarding;

namespace Gateway.Proxy.Identity;

/// <summary>
/// The OAuth names of a server as clients see them: its resource URL (<c>&lt;publicUrl&gt;/mcp/&lt;name&gt;</c>), the
/// audience its tokens must carry, and the address of its RFC 9728 metadata.
/// </summary>
internal sealed class McpResources(RoutesConfigStore routes)
{
    /// <summary>Where RFC 9728 puts protected-resource metadata: inserted before the resource's path.</summary>
    public const string MetadataPathPrefix = "/.well-known/oauth-protected-resource";

    public string ResourceOf(HttpRequest request, string server) => BaseUrlOf(request) + McpProxyConfigProvider.PathOf(server);

    public string MetadataUrlOf(HttpRequest request, string server) => BaseUrlOf(request) + MetadataPathPrefix + McpProxyConfigProvider.PathOf(server);

    /// <summary>The audience a token for <paramref name="server"/> must carry: configured, or else the resource URL.</summary>
    public string AudienceOf(HttpRequest request, string server)
    {
        var current = routes.Current;
        var configured = current.Servers.TryGetValue(server, out var options) ? options.Auth.Audience : null;
        return configured ?? current.Gateway.Auth?.Audience ?? ResourceOf(request, server);
    }

    private string BaseUrlOf(HttpRequest request) =>
        routes.Current.Gateway.PublicUrl?.TrimEnd('/') ?? string.Concat(request.Scheme, "://", request.Host.Value, request.PathBase.Value);
}
