using Gateway.Mcp;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Policy;

/// <summary>
/// Refuses a <c>tools/call</c>, <c>prompts/get</c> or <c>resources/read</c> (and <c>resources/subscribe</c>) of what
/// the server's lists do not allow, as the server would answer an unknown name (JSON-RPC -32602, HTTP 200), so that
/// a caller learns nothing of the policy; nothing is forwarded, and the audit event names the rule.
/// </summary>
/// <remarks>
/// The body's name is the one checked: a 2026-07-28 client's <c>Mcp-Name</c> header already had to match it
/// (<c>Guard/McpRequestGuardMiddleware</c>). Requests for other methods pass untouched.
/// </remarks>
internal sealed class AccessListMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetMcpRequest();
        if (request.Envelope is not { Method: { } method } envelope)
        {
            return next(context);
        }

        var (list, target, kind) = ListOf(request.Options, method, envelope);
        if (list is null || list.AllowsEverything || target is null || list.RefusalOf(target) is not { } rule)
        {
            return next(context);
        }

        request.PolicyRule = $"{kind}s.{rule}";
        return McpErrorResponse.WriteAsync(context, StatusCodes.Status200OK, JsonRpcErrorCodes.InvalidParams,
            kind == "resource" ? $"Resource not found: '{EchoedText.Of(target, 256)}'." : $"Unknown {kind}: '{EchoedText.Of(target, 128)}'.");
    }

    /// <summary>The list that governs <paramref name="method"/>, the name or URI it is asked for, and what kind of thing that is.</summary>
    private static (AccessListOptions? List, string? Target, string Kind) ListOf(McpServerOptions options, string method, JsonRpcEnvelope envelope) => method switch
    {
        "tools/call" => (options.Tools, envelope.Name, "tool"),
        "prompts/get" => (options.Prompts, envelope.Name, "prompt"),
        "resources/read" or "resources/subscribe" => (options.Resources, envelope.Uri, "resource"),
        _ => (null, null, ""),
    };
}
