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
    private readonly ClaimsPrincipal _caller;

    private ListFilter(McpServerOptions options, PolicyTarget kind, string items, string key, ClaimsPrincipal caller) =>
        (_options, _kind, _items, _key, _caller) = (options, kind, items, key, caller);

    /// <summary>The filter for a request's answer to <paramref name="caller"/>; null when the method lists nothing the server restricts.</summary>
    public static ListFilter? For(McpServerOptions options, string? method, ClaimsPrincipal caller) =>
        Applies(options, method) && ListOf(method) is ({ } kind, { } items, { } key) ? new(options, kind, items, key, caller) : null;

    /// <summary>Whether the answer to <paramref name="method"/> is filtered for this server.</summary>
    public static bool Applies(McpServerOptions options, string? method) => ListOf(method).Kind is { } kind && ServerPolicy.Restricts(options, kind);

    /// <summary>What a list method lists: the kind, the result's array and the key of its items.</summary>
    private static (PolicyTarget? Kind, string? Items, string? Key) ListOf(string? method) => method switch
    {
        "tools/list" => (PolicyTarget.Tool, "tools", "name"),
        "prompts/list" => (PolicyTarget.Prompt, "prompts", "name"),
        "resources/list" => (PolicyTarget.Resource, "resources", "uri"),
        "resources/templates/list" => (PolicyTarget.Resource, "resourceTemplates", "uriTemplate"),
        _ => (null, null, null),
    };

    /// <summary>
    /// The message with the result's items filtered, when <paramref name="message"/> is an answer with such a list;
    /// null when it is not (a notification, not JSON), which then passes as it came.
    /// </summary>
    /// <remarks>
    /// Any answer with the list is filtered, whatever its id: the answers a POST's stream carries are the request's,
    /// and an id written another way (escapes, <c>1.0</c>) must not let a list through unfiltered.
    /// </remarks>
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

        if (node is not JsonObject answer || answer["result"] is not JsonObject result || result[_items] is not JsonArray items)
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
