using System.Text;
using Gateway.Mcp;
using Gateway.Transforms.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Transforms.Guard;

/// <summary>
/// Refuses what must never reach an upstream, before anything is forwarded: header values HTTP cannot carry,
/// oversized bodies, bodies that are not one JSON-RPC message, and 2026-07-28 headers that disagree with the body.
/// </summary>
/// <remarks>A POST body that passes is kept in the request's <see cref="McpRequestContext"/>, with its envelope, for later steps.</remarks>
internal sealed class McpRequestGuardMiddleware(RequestDelegate next)
{
    private const int MaxEchoedLength = 128;

    public async Task InvokeAsync(HttpContext context)
    {
        var mcp = context.GetMcpRequest();
        var request = context.Request;
        // HttpClient refuses to send such a value; caught here, it is this caller's 400 and not a transport failure
        // of the destination, which would count against its health for every other caller.
        if (NonAsciiHeader(request.Headers) is { } header)
        {
            await McpErrorResponse.WriteAsync(context, StatusCodes.Status400BadRequest, JsonRpcErrorCodes.InvalidHeader, string.Equals(header, McpHeaders.Name, StringComparison.OrdinalIgnoreCase)
                ? "Header 'Mcp-Name' is not ASCII. Send a name that is not ASCII in the Base64 form '=?base64?…?=' of MCP 2026-07-28."
                : $"Header '{EchoedText.Of(header, MaxEchoedLength)}' has a value that is not ASCII, which HTTP cannot carry to the upstream. Send ASCII only.").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var limit = mcp.Options.MaxRequestBodyBytes ?? mcp.Gateway.MaxRequestBodyBytes;
        if (request.ContentLength > limit)
        {
            await TooLarge(context, limit).ConfigureAwait(false);
            return;
        }

        // The gateway enforces its own limit below; Kestrel's default (30 MB) must not cut in first.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var body = await PooledRequestBody.ReadAsync(request.Body, request.ContentLength, limit, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await TooLarge(context, limit).ConfigureAwait(false);
            return;
        }

        context.Response.RegisterForDispose(body);
        var outcome = JsonRpcReader.TryRead(body.Memory, out var message);
        if (outcome != JsonRpcReadError.None)
        {
            await Invalid(context, outcome).ConfigureAwait(false);
            return;
        }

        mcp.Envelope = message;
        if (HeaderMismatch(request.Headers, message!) is { } mismatch)
        {
            await McpErrorResponse.WriteAsync(context, StatusCodes.Status400BadRequest, JsonRpcErrorCodes.HeaderMismatch, mismatch).ConfigureAwait(false);
            return;
        }

        mcp.Body = body;
        request.Body = body.OpenRead();
        request.ContentLength = body.Length;
        await next(context).ConfigureAwait(false);
    }

    private static string? NonAsciiHeader(IHeaderDictionary headers)
    {
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                if (value is not null && !Ascii.IsValid(value))
                {
                    return name;
                }
            }
        }

        return null;
    }

    private static string? HeaderMismatch(IHeaderDictionary headers, JsonRpcEnvelope message)
    {
        var method = headers[McpHeaders.Method];
        if (method.Count > 0 && !string.Equals(method.ToString(), message.Method, StringComparison.Ordinal))
        {
            return $"Header mismatch: Mcp-Method header value '{Truncate(method.ToString())}' does not match body value '{Truncate(message.Method)}'.";
        }

        var name = headers[McpHeaders.Name];
        if (name.Count > 0)
        {
            var bodyName = message.Method?.StartsWith("resources/", StringComparison.Ordinal) == true ? message.Uri : message.Name;
            var headerName = name.Count == 1 ? McpHeaderValue.Decode(name.ToString()) : null;
            if (headerName is null || !string.Equals(headerName, bodyName, StringComparison.Ordinal))
            {
                return $"Header mismatch: Mcp-Name header value '{Truncate(name.ToString())}' does not match body value '{Truncate(bodyName)}'.";
            }
        }

        return null;
    }

    private static Task TooLarge(HttpContext context, long limit)
    {
        // Kestrel closes a connection whose body was not read; say so rather than let the client guess.
        context.Response.Headers.Connection = "close";
        return McpErrorResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, JsonRpcErrorCodes.PayloadTooLarge,
            $"Request body larger than {limit} bytes. Send a smaller message, or raise maxRequestBodyBytes for this server in routes.yaml.");
    }

    private static Task Invalid(HttpContext context, JsonRpcReadError outcome)
    {
        var (code, message) = outcome switch
        {
            JsonRpcReadError.MalformedJson => (JsonRpcErrorCodes.ParseError, "Parse error: the body is not well-formed JSON."),
            JsonRpcReadError.Batch => (JsonRpcErrorCodes.InvalidRequest, "Invalid request: JSON-RPC batches are not supported by MCP; send one message per POST."),
            _ => (JsonRpcErrorCodes.InvalidRequest, "Invalid request: the body must be one JSON-RPC 2.0 request, notification or response object."),
        };
        return McpErrorResponse.WriteAsync(context, StatusCodes.Status400BadRequest, code, message);
    }

    private static string Truncate(string? value) => EchoedText.Of(value, MaxEchoedLength);
}
