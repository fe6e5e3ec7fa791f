using System.Diagnostics;
using Gateway.Proxy.Configuration;
using Gateway.Proxy.Mcp;
using Gateway.Transforms.JsonRpc;
using Gateway.Transforms.Mcp;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Telemetry;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Proxy.Telemetry;

/// <summary>
/// Measures and audits every request to <c>/mcp/&lt;server&gt;</c>, including those the gateway refuses before the
/// proxy (401, 403): runs before authentication, records when the request has ended.
/// </summary>
internal sealed class McpExchangeMiddleware(RequestDelegate next, McpMetrics metrics, McpAuditLog audit, RoutesConfigStore routes, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var server = McpRouteMetadata.ServerOf(context);
        if (server is null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var exchange = new McpExchange(server);
        context.Features.Set(exchange);
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
            if (exchange.EventStream)
            {
                metrics.StreamClosed(server);
            }

            Record(context, exchange, body);
        }
    }

    /// <summary>The session the request belongs to: the id it carried, or the one the gateway just issued.</summary>
    private static string? SessionIdOf(HttpContext context)
    {
        var carried = context.Request.Headers[McpHeaders.SessionId];
        return carried.Count > 0 ? carried.ToString() : context.Response.Headers[McpHeaders.SessionId].ToString();
    }

    /// <summary>The tool call's arguments, where the server's <c>audit.includeArguments</c> asks for them.</summary>
    private string? ArgumentsOf(HttpContext context, string server, JsonRpcEnvelope? envelope) =>
        envelope?.Method == "tools/call" && context.Features.Get<PooledRequestBody>() is { } body
            && routes.Current.Servers.TryGetValue(server, out var options) && options.Audit.IncludeArguments
            ? McpAuditLog.ArgumentsOf(body.Memory)
            : null;

    private void Record(HttpContext context, McpExchange exchange, CountingResponseBody? body)
    {
        var envelope = context.Features.Get<JsonRpcEnvelope>();
        var request = context.Request;
        var status = context.Response.StatusCode;
        var elapsed = Stopwatch.GetElapsedTime(exchange.StartTimestamp);

        var tags = new TagList { { McpMetrics.ServerTag, exchange.Server }, { McpMetrics.HttpMethodTag, request.Method } };
        if (envelope?.Method is { } method)
        {
            tags.Add(McpMetrics.MethodTag, McpMetrics.MethodLabel(method));
            if (method == "tools/call" && envelope.Name is { } tool)
            {
                tags.Add(McpMetrics.ToolTag, metrics.ToolLabel(exchange.Server, tool));
            }
        }

        var errorCode = exchange.GatewayErrorCode != 0 ? exchange.GatewayErrorCode : (int?)null;
        var failed = errorCode is not null || status >= StatusCodes.Status400BadRequest;
        if (errorCode is { } code)
        {
            tags.Add(McpMetrics.ErrorTypeTag, McpMetrics.ErrorTypeOf(code));
        }
        else if (status >= StatusCodes.Status400BadRequest || context.RequestAborted.IsCancellationRequested)
        {
            tags.Add(McpMetrics.ErrorTypeTag, context.RequestAborted.IsCancellationRequested ? "cancelled" : McpMetrics.ErrorTypeOf(status));
        }

        metrics.RecordServerOperation(exchange.Server, failed, elapsed.TotalSeconds, tags);
        if (exchange.UpstreamStartTimestamp != 0)
        {
            metrics.RecordClientOperation(Stopwatch.GetElapsedTime(exchange.UpstreamStartTimestamp).TotalSeconds, tags);
        }

        var session = context.Features.Get<McpSessionFeature>();
        if (status < StatusCodes.Status300MultipleChoices)
        {
            if (session is null && context.Response.Headers.ContainsKey(McpHeaders.SessionId))
            {
                metrics.RecordSessionStarted(exchange.Server);
            }
            else if (session is not null && HttpMethods.IsDelete(request.Method))
            {
                metrics.RecordSessionEnded(exchange.Server, time.GetUtcNow() - session.Session.IssuedAt);
            }
        }

        if (body is not null)
        {
            var user = context.User;
            var subject = CallerIdentity.SubjectOf(user);
            audit.Write(new McpAuditEvent(
                exchange.Server,
                request.Method,
                envelope?.Method,
                envelope?.Name ?? envelope?.Uri,
                status,
                errorCode,
                Math.Round(elapsed.TotalMilliseconds, 3),
                subject?.Issuer,
                subject?.Value,
                CallerIdentity.ClientOf(user),
                McpAuditLog.HashSession(SessionIdOf(context)),
                request.ContentLength ?? 0,
                body.BytesWritten,
                ArgumentsOf(context, exchange.Server, envelope)));
        }
    }
}
