using Gateway.Transforms.Configuration;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.InboundAuth;

/// <summary>
/// The OAuth names of a server as clients see them: its resource URL (<c>&lt;publicUrl&gt;/mcp/&lt;name&gt;</c>), the
/// audience its tokens must carry, and the address of its RFC 9728 metadata.
/// </summary>
internal static class McpResources
{
    /// <summary>Where RFC 9728 puts protected-resource metadata: inserted before the resource's path.</summary>
    public const string MetadataPathPrefix = "/.well-known/oauth-protected-resource";

    public static string ResourceOf(HttpRequest request, string server, GatewayOptions gateway) => BaseUrlOf(request, gateway) + McpRouteMetadata.PathOf(server);

    public static string MetadataUrlOf(HttpRequest request, string server, GatewayOptions gateway) => BaseUrlOf(request, gateway) + MetadataPathPrefix + McpRouteMetadata.PathOf(server);

    /// <summary>The audience a token for <paramref name="server"/> must carry: configured, or else the resource URL.</summary>
    public static string AudienceOf(HttpRequest request, string server, McpServerOptions options, GatewayOptions gateway, AuthOptions? auth) =>
        options.Auth.Audience ?? auth?.Audience ?? ResourceOf(request, server, gateway);

    private static string BaseUrlOf(HttpRequest request, GatewayOptions gateway) =>
        gateway.PublicUrl?.TrimEnd('/') ?? string.Concat(request.Scheme, "://", request.Host.Value, request.PathBase.Value);
}
