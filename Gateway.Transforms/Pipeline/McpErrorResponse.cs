using Gateway.Mcp;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Pipeline;

/// <summary>The gateway's own answer to an MCP request: a JSON-RPC error with the request's id, noted for telemetry.</summary>
internal static class McpErrorResponse
{
    public static Task WriteAsync(HttpContext context, int statusCode, int code, string message)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Features.Get<McpRequestContext>();
        if (request is not null)
        {
            request.GatewayErrorCode = code;
        }

        return JsonRpcErrorResponse.WriteAsync(context.Response, statusCode, code, message, request?.Envelope?.Id ?? default);
    }
}
