using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Guard;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Limits;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Transforms.VirtualServers;

/// <summary>Serves the virtual servers at <c>/mcp/&lt;name&gt;</c> with the C# SDK's Streamable HTTP server.</summary>
internal static class VirtualServerEndpoints
{
    /// <summary>The route constraint that matches the names of the virtual servers in force.</summary>
    public const string RouteConstraint = "mcpvirtual";

    // The SDK's own code for an unknown session (MCP's -32001), which its clients answer by initializing again.
    private const int SessionNotFound = -32001;

    /// <summary>
    /// The steps a forwarded request takes in YARP's pipeline that apply to a virtual server's own requests too: the
    /// guard (body size, one JSON-RPC message, headers) and the virtual server's rate limits; then a call that can go
    /// straight down its member's route does (<see cref="DirectMemberCalls"/>).
    /// </summary>
    public static void UseVirtualServerSteps(this IApplicationBuilder app) =>
        app.UseWhen(IsVirtualServerRequest, branch =>
        {
            branch.UseMiddleware<McpRequestGuardMiddleware>();
            branch.Use((context, next) =>
            {
                // A session this replica holds is its user's in one client application: anyone else gets 404, as for
                // a forged id (the SDK's own check compares the user alone).
                var request = context.GetMcpRequest();
                if (context.Request.Headers[McpHeaders.SessionId].ToString() is { Length: > 0 } sessionId
                    && !context.RequestServices.GetRequiredService<VirtualServerSessions>().MayUse(sessionId, request))
                {
                    return McpErrorResponse.WriteAsync(context, StatusCodes.Status404NotFound, SessionNotFound, "Session not found.");
                }

                return next(context);
            });
            branch.UseMiddleware<RateLimitMiddleware>();
            branch.Use(async (context, next) =>
            {
                var direct = context.RequestServices.GetRequiredService<DirectMemberCalls>();
                direct.ForwardCancellation(context);
                if (!await direct.TryCallAsync(context).ConfigureAwait(false))
                {
                    await next(context).ConfigureAwait(false);
                }
            });
            branch.Use((context, next) =>
            {
                if (HttpMethods.IsDelete(context.Request.Method) && context.Request.Headers[McpHeaders.SessionId].ToString() is { Length: > 0 } sessionId)
                {
                    context.RequestServices.GetRequiredService<VirtualServerSessions>().Ending(sessionId);
                }

                return next(context);
            });
        });

    public static void MapVirtualServers(this IEndpointRouteBuilder endpoints, bool authentication)
    {
        var builder = endpoints.MapMcp("/mcp/{server:" + RouteConstraint + "}")
            .WithMetadata(new VirtualServerEndpointMetadata())
            .RequireCors(McpCorsPolicyProvider.PolicyName);
        if (authentication)
        {
            builder.RequireAuthorization(McpServerPolicyProvider.RequestServerPolicy);
        }
    }

    private static bool IsVirtualServerRequest(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<VirtualServerEndpointMetadata>() is not null && context.Features.Get<McpRequestContext>() is not null;
}

/// <summary>Matches a route value that names a virtual server of the routes in force.</summary>
internal sealed class VirtualServerRouteConstraint(RoutesConfigStore routes) : IRouteConstraint
{
    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
        values.TryGetValue(routeKey, out var value) && value is string name
        && routes.Current.Servers.TryGetValue(name, out var server) && server.Transport == McpTransport.Virtual;
}
