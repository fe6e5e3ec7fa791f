using System.Diagnostics;
using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Transforms.Telemetry;

/// <summary>
/// Measures and audits every request to <c>/mcp/&lt;server&gt;</c>, including those the gateway refuses before the
/// proxy (401, 403): runs before authentication, records when the request has ended.
/// </summary>
internal sealed class McpTelemetryMiddleware(RequestDelegate next, McpMetrics metrics, McpAuditLog audit, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<McpRequestContext>() is not { } request)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        CountingResponseBody? body = null;
        if (audit.Enabled)
        {
            body = new CountingResponseBody(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>());
            context.Features.Set<IHttpResponseBodyFeature>(body);
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            if (request.EventStream)
            {
                metrics.StreamClosed(request.Server);
            }

            Record(context, request, body);
        }
    }

    /// <summary>The session the request belongs to: the id it carried, or the one the gateway just issued.</summary>
    private static string? SessionIdOf(HttpContext context)
    {
        var carried = context.Request.Headers[McpHeaders.SessionId];
        return carried.Count > 0 ? carried.ToString() : context.Response.Headers[McpHeaders.SessionId].ToString();
    }

    /// <summary>The tool call's arguments, where the server's <c>audit.includeArguments</c> asks for them.</summary>
    private static string? ArgumentsOf(McpRequestContext request) =>
        request.Envelope?.Method == "tools/call" && request.Body is { } body && request.Options.Audit.IncludeArguments
            ? McpAuditLog.ArgumentsOf(body.Memory)
            : null;

    private void Record(HttpContext context, McpRequestContext request, CountingResponseBody? body)
    {
        var envelope = request.Envelope;
        var status = context.Response.StatusCode;
        var elapsed = Stopwatch.GetElapsedTime(request.StartTimestamp);

        var tags = new TagList { { McpMetrics.ServerTag, request.Server }, { McpMetrics.HttpMethodTag, context.Request.Method } };
        if (request.Via is { } via)
        {
            tags.Add(McpMetrics.VirtualServerTag, via.VirtualServer);
        }

        if (envelope?.Method is { } method)
        {
            tags.Add(McpMetrics.MethodTag, McpMetrics.MethodLabel(method));
            if (method == "tools/call" && envelope.Name is { } tool)
            {
                tags.Add(McpMetrics.ToolTag, metrics.ToolLabel(request.Server, tool));
            }
        }

        var errorCode = request.GatewayErrorCode != 0 ? request.GatewayErrorCode : (int?)null;
        var failed = errorCode is not null || status >= StatusCodes.Status400BadRequest;
        if (errorCode is { } code)
        {
            tags.Add(McpMetrics.ErrorTypeTag, McpMetrics.ErrorTypeOf(code));
        }
        else if (status >= StatusCodes.Status400BadRequest || context.RequestAborted.IsCancellationRequested)
        {
            tags.Add(McpMetrics.ErrorTypeTag, context.RequestAborted.IsCancellationRequested ? "cancelled" : McpMetrics.ErrorTypeOf(status));
        }

        metrics.RecordServerOperation(request.Server, failed, elapsed.TotalSeconds, tags);
        if (request.UpstreamStartTimestamp != 0)
        {
            metrics.RecordClientOperation(Stopwatch.GetElapsedTime(request.UpstreamStartTimestamp).TotalSeconds, tags);
        }

        if (status < StatusCodes.Status300MultipleChoices)
        {
            if (request.Session is null && context.Response.Headers.ContainsKey(McpHeaders.SessionId))
            {
                metrics.RecordSessionStarted(request.Server);
            }
            else if (request.Session is { } session && HttpMethods.IsDelete(context.Request.Method))
            {
                metrics.RecordSessionEnded(request.Server, time.GetUtcNow() - session.IssuedAt);
            }
        }

        if (body is not null)
        {
            var caller = request.Caller;
            audit.Write(new McpAuditEvent(
                request.Server,
                context.Request.Method,
                envelope?.Method,
                envelope?.Name ?? envelope?.Uri,
                status,
                errorCode,
                request.PolicyRule,
                Math.Round(elapsed.TotalMilliseconds, 3),
                caller.Issuer,
                caller.Subject,
                caller.Client,
                McpAuditLog.HashSession(SessionIdOf(context)),
                context.Request.ContentLength ?? 0,
                body.BytesWritten,
                ArgumentsOf(request),
                request.Via?.VirtualServer));
        }
    }
}
