using System.Text.Json;
using Gateway.Transforms.Telemetry;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.JsonRpc;

/// <summary>Writes the gateway's own answers: an HTTP status with a JSON-RPC error body.</summary>
public static class JsonRpcErrorResponse
{
    /// <summary>Writes <c>{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…}}</c> with <paramref name="statusCode"/>.</summary>
    /// <param name="response">The response; nothing may have been written to it yet.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="code">One of <see cref="JsonRpcErrorCodes"/>.</param>
    /// <param name="message">What went wrong and, where the caller can act, what to do.</param>
    /// <param name="id">The raw JSON id of the request being answered; null is written when empty.</param>
    public static Task WriteAsync(HttpResponse response, int statusCode, int code, string message, ReadOnlyMemory<byte> id = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        if (response.HttpContext.Features.Get<McpExchange>() is { } exchange)
        {
            exchange.GatewayErrorCode = code;
        }

        using (var writer = new Utf8JsonWriter(response.BodyWriter))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            writer.WritePropertyName("id"u8);
            if (id.IsEmpty)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteRawValue(id.Span, skipInputValidation: true);
            }

            writer.WriteStartObject("error"u8);
            writer.WriteNumber("code"u8, code);
            writer.WriteString("message"u8, message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return response.BodyWriter.FlushAsync().AsTask();
    }
}
