using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Policy;

/// <summary>
/// Refuses a <c>tools/call</c>, <c>prompts/get</c> or <c>resources/read</c> (and <c>resources/subscribe</c>) of what
/// the server's lists or policy rules do not allow this caller (<see cref="ServerPolicy"/>), as the server would
/// answer an unknown name (JSON-RPC -32602, HTTP 200), so that a caller learns nothing of the policy; nothing is
/// forwarded, and the audit event names the rule.
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
        if (ListFilter.Applies(request.Options, request.Envelope?.Method))
        {
            // The answer is filtered (ListFilterTransform): it must come in a form the gateway can read.
            context.Request.Headers.AcceptEncoding = default;
        }

        if (request.Envelope is not { Method: { } method } envelope
            || TargetOf(method, envelope) is not ({ } kind, { } target)
            || !ServerPolicy.Restricts(request.Options, kind)
            || ServerPolicy.RefusalOf(request.Options, kind, target, context.User) is not { } rule)
        {
            return next(context);
        }

        request.PolicyRule = rule;
        return McpErrorResponse.WriteAsync(context, StatusCodes.Status200OK, JsonRpcErrorCodes.InvalidParams, kind switch
        {
            PolicyTarget.Resource => $"Resource not found: '{EchoedText.Of(target, 256)}'.",
            PolicyTarget.Prompt => $"Unknown prompt: '{EchoedText.Of(target, 128)}'.",
            _ => $"Unknown tool: '{EchoedText.Of(target, 128)}'.",
        });
    }

    /// <summary>What <paramref name="method"/> asks for: its kind, and the name or URI.</summary>
    private static (PolicyTarget? Kind, string? Target) TargetOf(string method, JsonRpcEnvelope envelope) => method switch
    {
        "tools/call" => (PolicyTarget.Tool, envelope.Name),
        "prompts/get" => (PolicyTarget.Prompt, envelope.Name),
        "resources/read" or "resources/subscribe" => (PolicyTarget.Resource, envelope.Uri),
        _ => (null, null),
    };
}
