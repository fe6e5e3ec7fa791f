using System.Buffers;
using System.Collections.Frozen;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Text.Json;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Pinning;

namespace Gateway.Transforms.Policy;

/// <summary>
/// Takes out of a <c>tools/list</c>, <c>prompts/list</c>, <c>resources/list</c> or <c>resources/templates/list</c>
/// result what the server's lists or policy rules do not allow the caller, so that each caller is shown only what it
/// may use; a <c>tools/list</c> is first shown to the server's <see cref="ToolPins"/>, which learns from the whole
/// list and hides what is quarantined. A list on a GET stream (replayed, or slipped in), or under another id, is
/// filtered the same way, its tools checked against the pins without being learned from.
/// </summary>
internal sealed class ListFilter
{
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 256 };
    private static readonly ListKind[] Kinds =
    [
        new("tools/list", PolicyTarget.Tool, "tools", "name"),
        new("prompts/list", PolicyTarget.Prompt, "prompts", "name"),
        new("resources/list", PolicyTarget.Resource, "resources", "uri"),
        new("resources/templates/list", PolicyTarget.Resource, "resourceTemplates", "uriTemplate"),
    ];

    private readonly string _server;
    private readonly McpServerOptions _options;
    private readonly IReadOnlyList<ListKind> _kinds;
    private readonly ClaimsPrincipal _caller;
    private readonly ToolPins? _pins;
    private readonly bool _cursorAsked;
    private readonly JsonElement? _requestId;

    private ListFilter(string server, McpServerOptions options, IReadOnlyList<ListKind> kinds, ClaimsPrincipal caller, ToolPins? pins, bool cursorAsked, JsonElement? requestId) =>
        (_server, _options, _kinds, _caller, _pins, _cursorAsked, _requestId) = (server, options, kinds, caller, pins, cursorAsked, requestId);

    /// <summary>Whether this filters the answer to one request (whose answer must come), not a GET stream's messages.</summary>
    public bool AnswersARequest => _requestId is not null;

    /// <summary>The request's id as its JSON, for an error in its place.</summary>
    public ReadOnlyMemory<byte> RequestIdJson { get; private init; }

    /// <summary>The filter for a request's answer to <paramref name="caller"/>; null when the method lists nothing the server restricts or pins.</summary>
    /// <param name="server">The server's name.</param>
    /// <param name="options">The server's options.</param>
    /// <param name="method">The request's method.</param>
    /// <param name="body">The request's body, for the cursor of a <c>tools/list</c>.</param>
    /// <param name="caller">Who asked.</param>
    /// <param name="pins">The pins of every server's tools.</param>
    /// <param name="id">The request's id, as its JSON.</param>
    public static ListFilter? For(string server, McpServerOptions options, string? method, ReadOnlyMemory<byte> id, ReadOnlyMemory<byte> body, ClaimsPrincipal caller, ToolPins pins)
    {
        if (KindOf(method) is not { } kind || !Filters(options, kind))
        {
            return null;
        }

        var pinned = Pinned(options, kind);
        using var parsed = JsonDocument.Parse(id.IsEmpty ? "null"u8.ToArray() : id);
        return new(server, options, [kind], caller, pinned ? pins : null, pinned && AsksFromCursor(body), parsed.RootElement.Clone()) { RequestIdJson = id };
    }

    /// <summary>
    /// The filter for a GET stream, which may carry (replay, or slip in) an answer to any list; null when the server
    /// filters no list. Its lists are checked against the pins, not learned from.
    /// </summary>
    public static ListFilter? ForStream(string server, McpServerOptions options, ClaimsPrincipal caller, ToolPins pins)
    {
        var kinds = Kinds.Where(k => Filters(options, k)).ToList();
        return kinds.Count == 0 ? null : new(server, options, kinds, caller, kinds.Any(k => Pinned(options, k)) ? pins : null, cursorAsked: false, requestId: null);
    }

    /// <summary>Whether the answer to <paramref name="method"/> is filtered (or its tools pinned) for this server.</summary>
    public static bool Applies(McpServerOptions options, string? method) => KindOf(method) is { } kind && Filters(options, kind);

    /// <summary>Whether any list of this server is filtered, so that its GET streams are read.</summary>
    public static bool FiltersAny(McpServerOptions options) => Kinds.Any(k => Filters(options, k));

    private static ListKind? KindOf(string? method) => method switch
    {
        "tools/list" => Kinds[0],
        "prompts/list" => Kinds[1],
        "resources/list" => Kinds[2],
        "resources/templates/list" => Kinds[3],
        _ => null,
    };

    private static bool Filters(McpServerOptions options, ListKind kind) => ServerPolicy.Restricts(options, kind.Kind) || Pinned(options, kind);

    private static bool Pinned(McpServerOptions options, ListKind kind) => kind.Kind == PolicyTarget.Tool && options.ToolPinning.Mode != ToolPinningMode.Off;

    /// <summary>
    /// The message with the result's items filtered, when <paramref name="message"/> is an answer with such a list
    /// (<see cref="ListFilterOutcome.Unchanged"/> when nothing was taken out); <see cref="ListFilterOutcome.NotAList"/>
    /// for any other message (an error, a notification), which passes as it came; <see cref="ListFilterOutcome.Unreadable"/>
    /// for what the gateway cannot read as JSON-RPC, which must not pass.
    /// </summary>
    /// <remarks>
    /// Any answer with the list is filtered, whatever its id: the answers a POST's stream carries are the request's,
    /// and an id written another way (escapes, <c>1.0</c>) must not let a list through unfiltered.
    /// </remarks>
    public async ValueTask<ListFilterResult> FilterAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            // A client's parser may skip a byte-order mark and go deeper than System.Text.Json's default of 64.
            document = JsonDocument.Parse(message.Span.StartsWith(Utf8Bom) ? message[Utf8Bom.Length..] : message, ParseOptions);
        }
        catch (JsonException)
        {
            return new(ListFilterOutcome.Unreadable, message, false);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                // A batch (an array) of answers is not MCP's since 2025-06-18, and not read here.
                return new(ListFilterOutcome.Unreadable, message, false);
            }

            var answers = _requestId is { } requestId && root.TryGetProperty("id", out var id) && SameId(id, requestId);
            if (!Once(root, "result"u8))
            {
                // Read one way here and maybe the other way by the client.
                return new(ListFilterOutcome.Unreadable, message, answers);
            }

            if (!root.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Object || ListIn(result) is not var (kind, items))
            {
                return new(ListFilterOutcome.NotAList, message, answers);
            }

            IReadOnlySet<string> hidden = FrozenSet<string>.Empty;
            if (_pins is not null && Pinned(_options, kind))
            {
                // Learned from only as the answer to the request; any other list (a decoy, a replay) is only checked.
                var lastPage = !result.TryGetProperty("nextCursor", out var cursor) || cursor.ValueKind == JsonValueKind.Null;
                hidden = answers
                    ? await _pins.ObserveAsync(_server, _options.ToolPinning, items, !_cursorAsked && lastPage, lastPage, cancellationToken).ConfigureAwait(false)
                    : await _pins.HeldBackAsync(_server, _options.ToolPinning, items, cancellationToken).ConfigureAwait(false);
            }

            var kept = new List<JsonElement>(items.GetArrayLength());
            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty(kind.Key, out var key) && key.ValueKind == JsonValueKind.String && !Refused(kind, key.GetString()!, hidden))
                {
                    kept.Add(item);
                }
            }

            // The items given twice: each copy is rewritten with what the caller may see.
            return kept.Count == items.GetArrayLength() && Once(result, kind.ItemsUtf8)
                ? new(ListFilterOutcome.Unchanged, message, answers)
                : new(ListFilterOutcome.Rewritten, Rewrite(root, result, kind, kept, message.Length), answers);
        }
    }

    /// <summary>The answer with the list's items replaced by <paramref name="kept"/>; every other member byte for byte as the server wrote it.</summary>
    private static ReadOnlyMemory<byte> Rewrite(JsonElement root, JsonElement result, ListKind kind, List<JsonElement> kept, int length)
    {
        var buffer = new ArrayBufferWriter<byte>(length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var member in root.EnumerateObject())
            {
                writer.WritePropertyName(member.Name);
                if (member.NameEquals("result"u8))
                {
                    writer.WriteStartObject();
                    foreach (var field in result.EnumerateObject())
                    {
                        writer.WritePropertyName(field.Name);
                        if (field.NameEquals(kind.ItemsUtf8))
                        {
                            writer.WriteStartArray();
                            foreach (var item in kept)
                            {
                                writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(item), skipInputValidation: true);
                            }

                            writer.WriteEndArray();
                        }
                        else
                        {
                            writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(field.Value), skipInputValidation: true);
                        }
                    }

                    writer.WriteEndObject();
                }
                else
                {
                    writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(member.Value), skipInputValidation: true);
                }
            }

            writer.WriteEndObject();
        }

        // Raw values keep the server's whitespace; a line break in it would end an SSE data line. Outside strings
        // (where JSON escapes them) CR and LF are whitespace, and a space is the same.
        var written = buffer.WrittenMemory;
        MemoryMarshal.AsMemory(written).Span.Replace((byte)'\r', (byte)' ');
        MemoryMarshal.AsMemory(written).Span.Replace((byte)'\n', (byte)' ');
        return written;
    }

    private static bool Once(JsonElement obj, ReadOnlySpan<byte> name)
    {
        var count = 0;
        foreach (var member in obj.EnumerateObject())
        {
            if (member.NameEquals(name) && ++count > 1)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether two JSON-RPC ids are the same, however each is written (<c>1</c>, <c>1.0</c>, <c>"a"</c>, <c>"\u0061"</c>).</summary>
    private static bool SameId(JsonElement id, JsonElement requestId) => (id.ValueKind, requestId.ValueKind) switch
    {
        (JsonValueKind.String, JsonValueKind.String) => id.GetString() == requestId.GetString(),
        (JsonValueKind.Number, JsonValueKind.Number) => id.TryGetDecimal(out var a) && requestId.TryGetDecimal(out var b) && a == b,
        _ => false,
    };

    /// <summary>The list this filter filters that <paramref name="result"/> carries.</summary>
    private (ListKind Kind, JsonElement Items)? ListIn(JsonElement result)
    {
        foreach (var kind in _kinds)
        {
            if (result.TryGetProperty(kind.Items, out var items) && items.ValueKind == JsonValueKind.Array)
            {
                return (kind, items);
            }
        }

        return null;
    }

    private bool Refused(ListKind kind, string name, IReadOnlySet<string> hidden) =>
        hidden.Contains(name) || (ServerPolicy.Restricts(_options, kind.Kind) && ServerPolicy.RefusalOf(_options, kind.Kind, name, _caller) is not null);

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

/// <summary>What <see cref="ListFilter.FilterAsync"/> made of a message, the message to pass on, and whether it is the answer to the request.</summary>
internal readonly record struct ListFilterResult(ListFilterOutcome Outcome, ReadOnlyMemory<byte> Message, bool AnswersRequest);

internal enum ListFilterOutcome
{
    /// <summary>Not an answer with the list: passed as it came.</summary>
    NotAList,

    /// <summary>A list the caller may see all of.</summary>
    Unchanged,

    /// <summary>A list with items taken out.</summary>
    Rewritten,

    /// <summary>Not JSON-RPC the gateway can read: not passed.</summary>
    Unreadable,
}

/// <summary>A list method: what it lists, the result's array and the key of its items.</summary>
internal sealed record ListKind(string Method, PolicyTarget Kind, string Items, string Key)
{
    public byte[] ItemsUtf8 { get; } = System.Text.Encoding.UTF8.GetBytes(Items);
}
