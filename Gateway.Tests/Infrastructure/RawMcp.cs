using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>Hand-made MCP HTTP requests, for what the SDK client would never send.</summary>
public static class RawMcp
{
    public const string ProtocolVersion = "2025-11-25";

    public const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1.0"}}}""";

    public const string Initialized = """{"jsonrpc":"2.0","method":"notifications/initialized"}""";

    public static string CallTool(string name, int id = 2, string arguments = "{}") =>
        $$$"""{"jsonrpc":"2.0","id":{{{id}}},"method":"tools/call","params":{"name":"{{{name}}}","arguments":{{{arguments}}}}}""";

    public static HttpRequestMessage Post(string path, string body, string? sessionId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.Add("MCP-Protocol-Version", ProtocolVersion);
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
        }

        return request;
    }

    /// <summary>Runs the initialize handshake and returns the session id the client was given.</summary>
    public static async Task<string> InitializeAsync(HttpClient http, string path)
    {
        using var response = await http.SendAsync(Post(path, Initialize), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sessionId = Assert.Single(response.Headers.GetValues("Mcp-Session-Id"));
        using var initialized = await http.SendAsync(Post(path, Initialized, sessionId), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return sessionId;
    }

    /// <summary>Reads a JSON or single-event SSE answer and returns its JSON-RPC message.</summary>
    public static async Task<JsonElement> ReadMessageAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            text = text.Split('\n').Last(l => l.StartsWith("data:", StringComparison.Ordinal))["data:".Length..];
        }

        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts the gateway's own error answer: the status, a JSON-RPC error body with the code, and the id echoed.</summary>
    public static async Task<string> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, int code, string? id = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var message = await ReadMessageAsync(response);
        Assert.Equal("2.0", message.GetProperty("jsonrpc").GetString());
        Assert.Equal(id ?? "null", message.GetProperty("id").GetRawText());
        var error = message.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        var text = error.GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(text));
        return text!;
    }
}
