using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using RoutesServer = Gateway.Transforms.Configuration.McpServerOptions;

namespace Gateway.Transforms.VirtualServers;

/// <summary>
/// Which member owns each tool, prompt and resource a virtual session shows its client, learned from the members'
/// lists: the names the client sees, and the way back from a name or URI to the member.
/// </summary>
internal sealed partial class MemberCatalog(string virtualServer, ILogger logger)
{
    private readonly ConcurrentDictionary<string, string> _resourceOwners = new(StringComparer.Ordinal);
    private Dictionary<string, string> _toolOwners = [];
    private Dictionary<string, string> _promptOwners = [];
    private IReadOnlyList<(string Prefix, string Member)> _templateOwners = [];

    /// <summary>The members' tools as the client sees them; learns their owners.</summary>
    public List<Tool> Tools(RoutesServer options, List<(string Member, IList<Tool> Items)> lists)
    {
        _toolOwners = OwnersOf(options, lists.SelectMany(l => l.Items.Select(t => (l.Member, t.Name))), "tool");
        return [.. lists.SelectMany(l => l.Items.Select(t => Renamed(t, MemberNames.Of(options.ToolNames, l.Member, t.Name)))).Where(t => _toolOwners.ContainsKey(t.Name))];
    }

    /// <summary>The members' prompts as the client sees them; learns their owners.</summary>
    public List<Prompt> Prompts(RoutesServer options, List<(string Member, IList<Prompt> Items)> lists)
    {
        _promptOwners = OwnersOf(options, lists.SelectMany(l => l.Items.Select(p => (l.Member, p.Name))), "prompt");
        return [.. lists.SelectMany(l => l.Items.Select(p => Renamed(p, MemberNames.Of(options.ToolNames, l.Member, p.Name)))).Where(p => _promptOwners.ContainsKey(p.Name))];
    }

    /// <summary>The members' resources, by their own URIs: the first member to list a URI owns it.</summary>
    public List<Resource> Resources(List<(string Member, IList<Resource> Items)> lists) =>
        [.. lists.SelectMany(l => l.Items.Where(r => _resourceOwners.GetOrAdd(r.Uri, l.Member) == l.Member))];

    /// <summary>The members' resource templates; a URI is then the member's whose template's fixed start it has, the longest first.</summary>
    public List<ResourceTemplate> Templates(List<(string Member, IList<ResourceTemplate> Items)> lists)
    {
        _templateOwners = [.. lists.SelectMany(l => l.Items.Select(t => (LiteralPrefixOf(t.UriTemplate), l.Member))).OrderByDescending(t => t.Item1.Length)];
        return [.. lists.SelectMany(l => l.Items)];
    }

    /// <summary>
    /// The member, as configured, and its own name of a tool or prompt the client names: from the prefix, or under
    /// <c>toolNames: unchanged</c> as the last list showed; false when neither names a member of the server now.
    /// </summary>
    public bool TryResolve(RoutesServer options, string kind, string name, out string member, out string memberName)
    {
        memberName = name;
        var owner = options.ToolNames == ToolNaming.Unchanged
            ? (kind == "tool" ? _toolOwners : _promptOwners).GetValueOrDefault(name)
            : MemberNames.TrySplit(name, out var prefix, out memberName) ? prefix : null;
        member = options.Members.FirstOrDefault(m => string.Equals(m, owner, StringComparison.OrdinalIgnoreCase)) ?? string.Empty;
        return member.Length > 0;
    }

    public string? OwnerOfUri(string uri) =>
        _resourceOwners.TryGetValue(uri, out var owner) ? owner : _templateOwners.FirstOrDefault(t => t.Prefix.Length > 0 && uri.StartsWith(t.Prefix, StringComparison.Ordinal)).Member;

    private static string LiteralPrefixOf(string template)
    {
        var brace = template.IndexOf('{', StringComparison.Ordinal);
        return brace < 0 ? template : template[..brace];
    }

    /// <summary>Which member each name belongs to; under unchanged names, a name two members list belongs to neither and is logged.</summary>
    private Dictionary<string, string> OwnersOf(RoutesServer options, IEnumerable<(string Member, string Name)> items, string kind)
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        var collided = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (member, name) in items)
        {
            var shown = MemberNames.Of(options.ToolNames, member, name);
            if (!owners.TryAdd(shown, member) && !string.Equals(owners[shown], member, StringComparison.OrdinalIgnoreCase) && collided.Add(shown))
            {
                LogNameCollision(logger, virtualServer, kind, shown, owners[shown], member);
            }
        }

        foreach (var name in collided)
        {
            owners.Remove(name);
        }

        return owners;
    }

    private static Tool Renamed(Tool tool, string name) => new()
    {
        Name = name,
        Title = tool.Title,
        Description = tool.Description,
        InputSchema = tool.InputSchema,
        OutputSchema = tool.OutputSchema,
        Annotations = tool.Annotations,
        Icons = tool.Icons,
        Meta = tool.Meta,
    };

    private static Prompt Renamed(Prompt prompt, string name) => new()
    {
        Name = name,
        Title = prompt.Title,
        Description = prompt.Description,
        Arguments = prompt.Arguments,
        Icons = prompt.Icons,
        Meta = prompt.Meta,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Virtual server {VirtualServer} (toolNames: unchanged): {Kind} '{Name}' is listed by both {First} and {Second}; it is left out. Rename it in one member or use 'toolNames: prefixed'.")]
    private static partial void LogNameCollision(ILogger logger, string virtualServer, string kind, string name, string first, string second);
}
