using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gateway.Mcp;

/// <summary>Writes an answer of the gateway's (or the bridge's) own: an HTTP status with a JSON-RPC error body.</summary>
internal static class JsonRpcErrorResponse
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
        response.ContentType = McpMediaTypes.Json;
        Write(response.BodyWriter, code, message, id);
        return response.BodyWriter.FlushAsync().AsTask();
    }

    /// <summary>Writes the same JSON-RPC error body into <paramref name="output"/>, for an answer put together elsewhere.</summary>
    public static void Write(IBufferWriter<byte> output, int code, string message, ReadOnlyMemory<byte> id = default)
    {
        using (var writer = new Utf8JsonWriter(output))
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
    }
}
