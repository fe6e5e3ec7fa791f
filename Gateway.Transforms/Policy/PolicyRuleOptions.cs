using System.Runtime.Serialization;

namespace Gateway.Transforms.Policy;

/// <summary>
/// One rule of <c>servers.&lt;name&gt;.policy</c>: for callers whose token matches every condition given, the
/// tools, resources and prompts it names (globs) are allowed or denied. Rules are tried in order; the first that
/// matches both the caller and the target decides; <c>servers.&lt;name&gt;.policyDefault</c> decides when none does.
/// </summary>
public sealed record PolicyRuleOptions
{
    /// <summary>What the audit log calls the rule; its index when unset.</summary>
    public string? Name { get; init; }

    /// <summary>The caller has one of these roles (<c>roles</c> claim).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The caller has every one of these scopes (<c>scope</c>, <c>scp</c>).</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>The caller is in one of these groups (<c>groups</c> claim).</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>The caller's subject (<c>sub</c>) is one of these.</summary>
    public IReadOnlyList<string> Subjects { get; init; } = [];

    /// <summary>The client application (<c>azp</c>, <c>client_id</c>, <c>appid</c>) is one of these.</summary>
    public IReadOnlyList<string> Clients { get; init; } = [];

    /// <summary>Each of these claims has this value (one of its values, for a claim given several times).</summary>
    public IReadOnlyDictionary<string, string> Claims { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The tools (globs on names) the rule is about.</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>The resources (globs on URIs) the rule is about.</summary>
    public IReadOnlyList<string> Resources { get; init; } = [];

    /// <summary>The prompts (globs on names) the rule is about.</summary>
    public IReadOnlyList<string> Prompts { get; init; } = [];

    /// <summary>What the rule decides for a caller and target it matches.</summary>
    public PolicyAction Action { get; init; } = PolicyAction.Allow;
}

/// <summary>Allow or deny.</summary>
public enum PolicyAction
{
    [EnumMember(Value = "allow")]
    Allow,

    [EnumMember(Value = "deny")]
    Deny,
}
