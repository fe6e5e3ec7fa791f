using System.Text.Json;

namespace Gateway.Mcp;

/// <summary>Why a body is not one JSON-RPC message.</summary>
public enum JsonRpcReadError
{
    /// <summary>The body is a single JSON-RPC message.</summary>
    None,

    /// <summary>Not well-formed JSON, or empty.</summary>
    MalformedJson,

    /// <summary>A JSON array: a JSON-RPC batch, which MCP no longer allows.</summary>
    Batch,

    /// <summary>Well-formed JSON that is not a JSON-RPC 2.0 request, notification or response.</summary>
    NotJsonRpc,
}

/// <summary>Reads the routing fields of a JSON-RPC message with <see cref="Utf8JsonReader"/>, skipping everything else.</summary>
/// <remarks>
/// The body is read in place: nothing but the few strings kept in <see cref="JsonRpcEnvelope"/> is allocated,
/// and the message's <c>id</c> is a slice of the body, valid as long as its buffer is.
/// </remarks>
public static class JsonRpcReader
{
    public static JsonRpcReadError TryRead(ReadOnlyMemory<byte> body, out JsonRpcEnvelope? message)
    {
        message = null;
        try
        {
            return Read(body, out message);
        }
        catch (JsonException)
        {
            return JsonRpcReadError.MalformedJson;
        }
    }

    private static JsonRpcReadError Read(ReadOnlyMemory<byte> body, out JsonRpcEnvelope? message)
    {
        message = null;
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        if (!reader.Read())
        {
            return JsonRpcReadError.MalformedJson;
        }

        if (reader.TokenType == JsonTokenType.StartArray)
        {
            reader.Skip();
            return ReadToEnd(ref reader, JsonRpcReadError.Batch);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return ReadToEnd(ref reader, JsonRpcReadError.NotJsonRpc);
        }

        var versionOk = false;
        var hasResult = false;
        string? method = null, name = null, uri = null;
        ReadOnlyMemory<byte> id = default;
        var methodIsString = true;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("jsonrpc"u8))
            {
                reader.Read();
                versionOk = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("2.0"u8);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("method"u8))
            {
                reader.Read();
                methodIsString = reader.TokenType == JsonTokenType.String;
                method = methodIsString ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.Number)
                {
                    id = body[start..(int)reader.BytesConsumed];
                }
            }
            else if (reader.ValueTextEquals("params"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadParams(ref reader, ref name, ref uri);
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("result"u8) || reader.ValueTextEquals("error"u8))
            {
                hasResult = true;
                reader.Read();
                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        var outcome = ReadToEnd(ref reader, JsonRpcReadError.None);
        if (outcome != JsonRpcReadError.None)
        {
            return outcome;
        }

        if (!versionOk || !methodIsString || (method is null && (!hasResult || id.IsEmpty)) || (method is not null && hasResult))
        {
            return JsonRpcReadError.NotJsonRpc;
        }

        var kind = method is null ? JsonRpcMessageKind.Response
            : id.IsEmpty ? JsonRpcMessageKind.Notification
            : JsonRpcMessageKind.Request;
        message = new JsonRpcEnvelope(kind, method, id, name, uri);
        return JsonRpcReadError.None;
    }

    private static void ReadParams(ref Utf8JsonReader reader, ref string? name, ref string? uri)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isName = reader.ValueTextEquals("name"u8);
            var isUri = !isName && reader.ValueTextEquals("uri"u8);
            reader.Read();
            if (reader.TokenType == JsonTokenType.String && (isName || isUri))
            {
                if (isName)
                {
                    name = reader.GetString();
                }
                else
                {
                    uri = reader.GetString();
                }
            }
            else
            {
                reader.Skip();
            }
        }
    }

    // The reader throws on anything after the root value, so reaching the end cleanly proves there is no trailer.
    private static JsonRpcReadError ReadToEnd(ref Utf8JsonReader reader, JsonRpcReadError outcome)
    {
        while (reader.Read())
        {
        }

        return outcome;
    }
}
