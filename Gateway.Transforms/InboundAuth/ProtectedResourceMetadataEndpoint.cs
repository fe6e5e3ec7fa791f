using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Guard;
using Gateway.Transforms.InboundAuth;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Serves RFC 9728 protected-resource metadata for each server at <c>/.well-known/oauth-protected-resource/mcp/&lt;name&gt;</c>.</summary>
public static class ProtectedResourceMetadataEndpoint
{
    public static IEndpointRouteBuilder MapProtectedResourceMetadata(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(McpResources.MetadataPathPrefix + "/mcp/{server}", (HttpContext context, string server, RoutesConfigStore routes) =>
        {
            var current = routes.Current;
            if (routes.Startup.Auth is not { } auth || !current.Servers.TryGetValue(server, out var options))
            {
                return JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status404NotFound, JsonRpcErrorCodes.UnknownServer,
                    "No protected MCP server of that name. GET /api/v1/services lists the servers this gateway serves.");
            }

            var metadata = new ProtectedResourceMetadata(
                McpResources.ResourceOf(context.Request, server, current.Gateway),
                [IssuerOf(auth)],
                options.Auth.Scopes,
                ["header"],
                server);
            return Results.Json(metadata, InboundAuthJsonContext.Default.ProtectedResourceMetadata).ExecuteAsync(context);
        }).RequireCors(McpCorsPolicyProvider.PolicyName); // browser clients discover the IdP from here after a 401
        return endpoints;
    }

    private static string IssuerOf(AuthOptions auth) =>
        auth.Authority ?? $"{auth.Entra!.Instance.TrimEnd('/')}/{auth.Entra.TenantId}/v2.0";
}
