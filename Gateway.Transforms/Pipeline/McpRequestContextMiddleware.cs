using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.VirtualServers;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Pipeline;

/// <summary>Builds the <see cref="McpRequestContext"/> of a request routed to an MCP server: the one lookup of its server and options.</summary>
internal sealed class McpRequestContextMiddleware(RequestDelegate next, RoutesConfigStore routes, MemberCallEndpoint members)
{
    public Task InvokeAsync(HttpContext context)
    {
        var current = routes.Current;
        if (McpRouteMetadata.ServerOf(context, current.Servers.Keys) is not { } server)
        {
            return next(context);
        }

        if (!current.Servers.TryGetValue(server, out var options))
        {
            // Matched a route of routes that were replaced a moment ago without this server.
            return JsonRpcErrorResponse.WriteAsync(context.Response, StatusCodes.Status404NotFound, JsonRpcErrorCodes.UnknownServer,
                $"Unknown MCP server '{server}': it was removed from the routes.");
        }

        // A virtual server's call to one of its members is its client's: limits count for, and X-Forwarded-For names, that client.
        var via = members.TicketOf(context);
        if (via is not null && current.Servers.TryGetValue(via.VirtualServer, out var virtualServer) && virtualServer.Members.Contains(server, StringComparer.OrdinalIgnoreCase))
        {
            context.Connection.RemoteIpAddress = via.ClientAddress;
        }
        else
        {
            via = null;
        }

        context.Features.Set(new McpRequestContext(server, options, current.Gateway, context.Connection.RemoteIpAddress) { Via = via });
        return next(context);
    }
}
