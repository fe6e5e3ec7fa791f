using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Transforms.Configuration;

namespace Gateway.Transforms.Policy;

/// <summary>
/// Takes out of a <c>tools/list</c>, <c>prompts/list</c>, <c>resources/list</c> or <c>resources/templates/list</c>
/// result what the server's lists or policy rules do not allow the caller, so that each caller is shown only what it
/// may use.
/// </summary>
internal sealed class ListFilter
{
    private readonly McpServerOptions _options;
    private readonly PolicyTarget _kind;
    private readonly string _items;
    private readonly string _key;
    private readonly string? _id;
    private readonly ClaimsPrincipal _caller;

    private ListFilter(McpServerOptions options, PolicyTarget kind, string items, string key, ReadOnlyMemory<byte> id, ClaimsPrincipal caller)
    {
        (_options, _kind, _items, _key, _caller) = (options, kind, items, key, caller);
        _id = id.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(id.Span);
    }

    /// <summary>The filter for a request's answer to <paramref name="caller"/>; null when the method lists nothing the server restricts.</summary>
    public static ListFilter? For(McpServerOptions options, string? method, ReadOnlyMemory<byte> id, ClaimsPrincipal caller) => method switch
    {
        "tools/list" when ServerPolicy.Restricts(options, PolicyTarget.Tool) => new(options, PolicyTarget.Tool, "tools", "name", id, caller),
        "prompts/list" when ServerPolicy.Restricts(options, PolicyTarget.Prompt) => new(options, PolicyTarget.Prompt, "prompts", "name", id, caller),
        "resources/list" when ServerPolicy.Restricts(options, PolicyTarget.Resource) => new(options, PolicyTarget.Resource, "resources", "uri", id, caller),
        "resources/templates/list" when ServerPolicy.Restricts(options, PolicyTarget.Resource) => new(options, PolicyTarget.Resource, "resourceTemplates", "uriTemplate", id, caller),
        _ => null,
    };

    /// <summary>
    /// The message with the result's items filtered, when <paramref name="message"/> is the answer to the request;
    /// null when it is not (another message, not JSON), which then passes as it came.
    /// </summary>
    public byte[]? Filter(ReadOnlySpan<byte> message)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(message);
        }
        catch (JsonException)
        {
            return null;
        }

        if (node is not JsonObject answer || answer["result"]?[_items] is not JsonArray items
            || (_id is not null && answer["id"]?.ToJsonString() != _id))
        {
            return null;
        }

        for (var i = items.Count - 1; i >= 0; i--)
        {
            if (items[i]?[_key]?.GetValueKind() is not JsonValueKind.String || ServerPolicy.RefusalOf(_options, _kind, items[i]![_key]!.GetValue<string>(), _caller) is not null)
            {
                items.RemoveAt(i);
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(answer);
    }
}
