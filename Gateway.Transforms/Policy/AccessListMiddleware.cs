using System.Text.Json;
using Gateway.Mcp;
using Gateway.Transforms.Guard;
using Gateway.Transforms.Pinning;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Policy;

/// <summary>
/// Refuses a <c>tools/call</c>, <c>prompts/get</c>, <c>resources/read</c> (and <c>resources/subscribe</c>), or a
/// <c>completion/complete</c> of a prompt's or resource template's arguments, of what
/// the server's lists or policy rules do not allow this caller (<see cref="ServerPolicy"/>), as the server would
/// answer an unknown name (JSON-RPC -32602, HTTP 200), so that a caller learns nothing of the policy; nothing is
/// forwarded, and the audit event names the rule.
/// </summary>
/// <remarks>
/// The body's name is the one checked: a 2026-07-28 client's <c>Mcp-Name</c> header already had to match it
/// (<c>Guard/McpRequestGuardMiddleware</c>). Requests for other methods pass untouched.
/// </remarks>
internal sealed class AccessListMiddleware(RequestDelegate next, ToolPins pins)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetMcpRequest();
        if (request.Envelope is { } list ? ListFilter.Applies(request.Options, list.Method) : HttpMethods.IsGet(context.Request.Method) && ListFilter.FiltersAny(request.Options))
        {
            // The answer is filtered (ListFilterTransform): it must come in a form the gateway can read.
            context.Request.Headers.AcceptEncoding = default;
        }

        if (request.Envelope is not { Method: { } method } envelope || TargetOf(method, envelope, request.Body) is not ({ } kind, { } target))
        {
            return next(context);
        }

        if (ServerPolicy.Restricts(request.Options, kind) && ServerPolicy.RefusalOf(request.Options, kind, target, context.User) is { } rule)
        {
            request.PolicyRule = rule;
            return McpErrorResponse.WriteAsync(context, StatusCodes.Status200OK, JsonRpcErrorCodes.InvalidParams, kind switch
            {
                PolicyTarget.Resource => $"Resource not found: '{EchoedText.Of(target, 256)}'.",
                PolicyTarget.Prompt => $"Unknown prompt: '{EchoedText.Of(target, 128)}'.",
                _ => $"Unknown tool: '{EchoedText.Of(target, 128)}'.",
            });
        }

        if (kind != PolicyTarget.Tool || request.Options.ToolPinning.Mode != ToolPinningMode.Enforce)
        {
            return next(context);
        }

        var refusal = pins.RefusalOfAsync(request.Server, request.Options.ToolPinning, target, context.RequestAborted);
        return refusal.IsCompletedSuccessfully ? RefuseQuarantined(context, request, target, refusal.Result) : AwaitRefusal(context, request, target, refusal);
    }

    private async Task AwaitRefusal(HttpContext context, McpRequestContext request, string tool, ValueTask<string?> refusal) =>
        await RefuseQuarantined(context, request, tool, await refusal.ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>
    /// A quarantined tool is refused in the server's words for an unknown tool, and why: it is the operator's
    /// decision that is missing, not a secret.
    /// </summary>
    private Task RefuseQuarantined(HttpContext context, McpRequestContext request, string tool, string? rule)
    {
        if (rule is null)
        {
            return next(context);
        }

        request.PolicyRule = rule;
        return McpErrorResponse.WriteAsync(context, StatusCodes.Status200OK, JsonRpcErrorCodes.InvalidParams, rule == ToolPins.Unlisted
            ? $"Unknown tool: '{EchoedText.Of(tool, 128)}'."
            : $"Unknown tool: '{EchoedText.Of(tool, 128)}'. The gateway holds it back: its definition is not the one approved for this server (tool pinning); an administrator can approve it.");
    }

    /// <summary>What <paramref name="method"/> asks for: its kind, and the name or URI.</summary>
    private static (PolicyTarget? Kind, string? Target) TargetOf(string method, JsonRpcEnvelope envelope, PooledRequestBody? body) => method switch
    {
        "tools/call" => (PolicyTarget.Tool, envelope.Name),
        "prompts/get" => (PolicyTarget.Prompt, envelope.Name),
        "resources/read" or "resources/subscribe" => (PolicyTarget.Resource, envelope.Uri),
        "completion/complete" when body is not null => CompletionTargetOf(body.Memory),
        _ => (null, null),
    };

    /// <summary>The prompt or resource template whose arguments a <c>completion/complete</c> asks to complete (<c>params.ref</c>).</summary>
    private static (PolicyTarget? Kind, string? Target) CompletionTargetOf(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("params", out var parameters) && parameters.ValueKind == JsonValueKind.Object
                && parameters.TryGetProperty("ref", out var reference) && reference.ValueKind == JsonValueKind.Object
                && reference.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
            {
                return (type.GetString(), reference) switch
                {
                    ("ref/prompt", var r) when r.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String => (PolicyTarget.Prompt, name.GetString()),
                    ("ref/resource", var r) when r.TryGetProperty("uri", out var uri) && uri.ValueKind == JsonValueKind.String => (PolicyTarget.Resource, uri.GetString()),
                    _ => (null, null),
                };
            }
        }
        catch (JsonException)
        {
            // The guard let only well-formed JSON through; nothing to judge here otherwise.
        }

        return (null, null);
    }
}
