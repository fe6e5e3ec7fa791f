using System.Security.Claims;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.InboundAuth;

namespace Gateway.Transforms.Policy;

/// <summary>What a caller may use of a server: first its lists (for everyone), then its policy rules (by caller).</summary>
internal static class ServerPolicy
{
    /// <summary>Whether anything of <paramref name="kind"/> is restricted for anyone, so that requests and answers need looking at.</summary>
    public static bool Restricts(McpServerOptions options, PolicyTarget kind)
    {
        if (!ListOf(options, kind).AllowsEverything || options.PolicyDefault == PolicyAction.Deny)
        {
            return true;
        }

        foreach (var rule in options.Policy)
        {
            if (TargetsOf(rule, kind).Count > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The rule that refuses <paramref name="name"/> to <paramref name="caller"/> (<c>tools.deny 'x'</c>, <c>policy 'readers'</c>); null when allowed.</summary>
    public static string? RefusalOf(McpServerOptions options, PolicyTarget kind, string name, ClaimsPrincipal caller)
    {
        if (kind == PolicyTarget.Resource)
        {
            // 'file:///public/../secret', 'FILE:///secret', '%73ecret': one resource, many spellings; the globs
            // are matched against the one .NET's URI parser makes of them.
            name = CanonicalUri(name);
        }

        if (ListOf(options, kind).RefusalOf(name) is { } listed)
        {
            return $"{KeyOf(kind)}.{listed}";
        }

        for (var i = 0; i < options.Policy.Count; i++)
        {
            var rule = options.Policy[i];
            if (Glob.FirstMatch(TargetsOf(rule, kind), name) is not null && Matches(rule, caller))
            {
                return rule.Action == PolicyAction.Allow ? null : $"policy '{rule.Name ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)}'";
            }
        }

        return options.PolicyDefault == PolicyAction.Allow ? null : "policyDefault deny";
    }

    /// <summary><paramref name="uri"/> as .NET's URI parser normalises it (scheme and host case, dot segments, escapes); a template or other text as it is.</summary>
    internal static string CanonicalUri(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            return uri;
        }

        var canonical = parsed.GetComponents(UriComponents.AbsoluteUri, UriFormat.Unescaped);

        // The parser gives 'test://readme' the path '/': that is no other resource.
        return parsed.AbsolutePath == "/" && !uri.EndsWith('/') && canonical.EndsWith('/') ? canonical[..^1] : canonical;
    }

    private static bool Matches(PolicyRuleOptions rule, ClaimsPrincipal caller) =>
        (rule.Roles.Count == 0 || rule.Roles.Any(role => Has(caller, "roles", role) || Has(caller, "role", role)))
        && (rule.Groups.Count == 0 || rule.Groups.Any(group => Has(caller, "groups", group)))
        && rule.Scopes.All(scope => ValuesOf(caller, "scope", "scp").Contains(scope))
        && (rule.Subjects.Count == 0 || rule.Subjects.Contains(McpCaller.SubjectOf(caller)?.Value))
        && (rule.Clients.Count == 0 || rule.Clients.Contains(McpCaller.ClientOf(caller)))
        && rule.Claims.All(claim => Has(caller, claim.Key, claim.Value));

    /// <summary>Whether a claim of <paramref name="type"/> has <paramref name="value"/>: as a value of its own, or among space-separated ones.</summary>
    private static bool Has(ClaimsPrincipal caller, string type, string value) => ValuesOf(caller, type).Contains(value);

    // OAuth's 'scope' is one space-separated claim, Entra's 'scp' the same; some IdPs write roles so too.
    private static IEnumerable<string> ValuesOf(ClaimsPrincipal caller, params string[] types) =>
        caller.Claims.Where(c => types.Contains(c.Type)).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static AccessListOptions ListOf(McpServerOptions options, PolicyTarget kind) => kind switch
    {
        PolicyTarget.Tool => options.Tools,
        PolicyTarget.Prompt => options.Prompts,
        _ => options.Resources,
    };

    private static IReadOnlyList<string> TargetsOf(PolicyRuleOptions rule, PolicyTarget kind) => kind switch
    {
        PolicyTarget.Tool => rule.Tools,
        PolicyTarget.Prompt => rule.Prompts,
        _ => rule.Resources,
    };

    private static string KeyOf(PolicyTarget kind) => kind switch
    {
        PolicyTarget.Tool => "tools",
        PolicyTarget.Prompt => "prompts",
        _ => "resources",
    };
}

/// <summary>What a policy is about.</summary>
internal enum PolicyTarget
{
    Tool,
    Prompt,
    Resource,
}
