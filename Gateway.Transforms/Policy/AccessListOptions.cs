namespace Gateway.Transforms.Policy;

/// <summary>
/// Which tools (or resources, or prompts) of a server any caller may use: <c>servers.&lt;name&gt;.tools</c>,
/// <c>.resources</c>, <c>.prompts</c>. Patterns are globs (<c>*</c>, <c>?</c>) on tool and prompt names and on
/// resource URIs, case-sensitive as those are. A name that matches <see cref="Deny"/> is refused; otherwise, when
/// <see cref="Allow"/> is given, only a name that matches it is allowed. The default allows everything.
/// </summary>
public sealed record AccessListOptions
{
    public IReadOnlyList<string> Allow { get; init; } = [];

    public IReadOnlyList<string> Deny { get; init; } = [];

    /// <summary>Whether nothing is restricted, so nothing need be looked at.</summary>
    public bool AllowsEverything => Allow.Count == 0 && Deny.Count == 0;

    /// <summary>The rule that refuses <paramref name="name"/> (<c>deny 'delete_*'</c>, <c>not in allow</c>); null when it is allowed.</summary>
    public string? RefusalOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Glob.FirstMatch(Deny, name) is { } denied)
        {
            return $"deny '{denied}'";
        }

        return Allow.Count == 0 || Glob.FirstMatch(Allow, name) is not null ? null : "not in allow";
    }
}
