using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Transforms.Configuration;

namespace Gateway.Transforms.Policy;

/// <summary>
/// Takes out of a <c>tools/list</c>, <c>prompts/list</c>, <c>resources/list</c> or <c>resources/templates/list</c>
/// result what the server's lists do not allow, so that each caller is shown only what it may use.
/// </summary>
internal sealed class ListFilter
{
    private readonly AccessListOptions _list;
    private readonly string _items;
    private readonly string _key;
    private readonly string? _id;

    private ListFilter(AccessListOptions list, string items, string key, ReadOnlyMemory<byte> id)
    {
        (_list, _items, _key) = (list, items, key);
        _id = id.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(id.Span);
    }

    /// <summary>The filter for a request's answer; null when the method lists nothing the server's lists restrict.</summary>
    public static ListFilter? For(McpServerOptions options, string? method, ReadOnlyMemory<byte> id) => method switch
    {
        "tools/list" when !options.Tools.AllowsEverything => new(options.Tools, "tools", "name", id),
        "prompts/list" when !options.Prompts.AllowsEverything => new(options.Prompts, "prompts", "name", id),
        "resources/list" when !options.Resources.AllowsEverything => new(options.Resources, "resources", "uri", id),
        "resources/templates/list" when !options.Resources.AllowsEverything => new(options.Resources, "resourceTemplates", "uriTemplate", id),
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
            if (items[i]?[_key]?.GetValueKind() is not JsonValueKind.String || _list.RefusalOf(items[i]![_key]!.GetValue<string>()) is not null)
            {
                items.RemoveAt(i);
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(answer);
    }
}
