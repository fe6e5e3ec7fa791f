using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Pinning;

namespace Gateway.Transforms.Policy;

/// <summary>
/// Takes out of a <c>tools/list</c>, <c>prompts/list</c>, <c>resources/list</c> or <c>resources/templates/list</c>
/// result what the server's lists or policy rules do not allow the caller, so that each caller is shown only what it
/// may use; a <c>tools/list</c> is first shown to the server's <see cref="ToolPins"/>, which learns from the whole
/// list and hides what is quarantined.
/// </summary>
internal sealed class ListFilter
{
    private readonly string _server;
    private readonly McpServerOptions _options;
    private readonly PolicyTarget _kind;
    private readonly string _items;
    private readonly string _key;
    private readonly ClaimsPrincipal _caller;
    private readonly ToolPins? _pins;
    private readonly bool _cursorAsked;

    private ListFilter(string server, McpServerOptions options, PolicyTarget kind, string items, string key, ClaimsPrincipal caller, ToolPins? pins, bool cursorAsked) =>
        (_server, _options, _kind, _items, _key, _caller, _pins, _cursorAsked) = (server, options, kind, items, key, caller, pins, cursorAsked);

    /// <summary>The filter for a request's answer to <paramref name="caller"/>; null when the method lists nothing the server restricts or pins.</summary>
    /// <param name="server">The server's name.</param>
    /// <param name="options">The server's options.</param>
    /// <param name="method">The request's method.</param>
    /// <param name="body">The request's body, for the cursor of a <c>tools/list</c>.</param>
    /// <param name="caller">Who asked.</param>
    /// <param name="pins">The pins of every server's tools.</param>
    public static ListFilter? For(string server, McpServerOptions options, string? method, ReadOnlyMemory<byte> body, ClaimsPrincipal caller, ToolPins pins)
    {
        if (!Applies(options, method) || ListOf(method) is not ({ } kind, { } items, { } key))
        {
            return null;
        }

        var pinned = kind == PolicyTarget.Tool && options.ToolPinning.Mode != ToolPinningMode.Off;
        return new(server, options, kind, items, key, caller, pinned ? pins : null, pinned && AsksFromCursor(body));
    }

    /// <summary>Whether the answer to <paramref name="method"/> is filtered (or its tools pinned) for this server.</summary>
    public static bool Applies(McpServerOptions options, string? method) =>
        ListOf(method).Kind is { } kind && (ServerPolicy.Restricts(options, kind) || (kind == PolicyTarget.Tool && options.ToolPinning.Mode != ToolPinningMode.Off));

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
    /// The message with the result's items filtered, when <paramref name="message"/> is an answer with such a list
    /// (itself when nothing was taken out); null when it is not (a notification, not JSON), which then passes as it came.
    /// </summary>
    /// <remarks>
    /// Any answer with the list is filtered, whatever its id: the answers a POST's stream carries are the request's,
    /// and an id written another way (escapes, <c>1.0</c>) must not let a list through unfiltered.
    /// </remarks>
    public async ValueTask<ReadOnlyMemory<byte>?> FilterAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(message.Span);
        }
        catch (JsonException)
        {
            return null;
        }

        if (node is not JsonObject answer || answer["result"] is not JsonObject result || result[_items] is not JsonArray items)
        {
            return null;
        }

        IReadOnlySet<string> hidden = new HashSet<string>();
        if (_pins is not null)
        {
            var lastPage = result["nextCursor"] is null;
            var tools = items.Select(ToolDefinition.Of).OfType<ToolDefinition>().ToList();
            hidden = await _pins.ObserveAsync(_server, _options.ToolPinning, tools, !_cursorAsked && lastPage, lastPage, cancellationToken).ConfigureAwait(false);
        }

        var count = items.Count;
        for (var i = items.Count - 1; i >= 0; i--)
        {
            if (items[i]?[_key] is not JsonValue key || key.GetValueKind() is not JsonValueKind.String || Refused(key.GetValue<string>(), hidden))
            {
                items.RemoveAt(i);
            }
        }

        return items.Count == count ? message : JsonSerializer.SerializeToUtf8Bytes(answer);
    }

    private bool Refused(string name, IReadOnlySet<string> hidden) =>
        hidden.Contains(name) || (ServerPolicy.Restricts(_options, _kind) && ServerPolicy.RefusalOf(_options, _kind, name, _caller) is not null);

    /// <summary>Whether a list request names a cursor: its answer is a later page, not the whole list.</summary>
    private static bool AsksFromCursor(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("params", out var parameters) && parameters.ValueKind == JsonValueKind.Object
                && parameters.TryGetProperty("cursor", out var cursor) && cursor.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
