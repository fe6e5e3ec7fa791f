using System.IO.Enumeration;
using System.Security.Claims;
using Gateway.Transforms.Configuration;

namespace Gateway.Transforms.Policy;

/// <summary>What a caller may use of a server: first its lists (for everyone), then its policy rules (by caller).</summary>
internal static class ServerPolicy
{
    /// <summary>Whether anything of <paramref name="kind"/> is restricted for anyone, so that requests and answers need looking at.</summary>
    public static bool Restricts(McpServerOptions options, PolicyTarget kind) =>
        !ListOf(options, kind).AllowsEverything || options.PolicyDefault == PolicyAction.Deny || options.Policy.Any(rule => TargetsOf(rule, kind).Count > 0);

    /// <summary>The rule that refuses <paramref name="name"/> to <paramref name="caller"/> (<c>tools.deny 'x'</c>, <c>policy 'readers'</c>); null when allowed.</summary>
    public static string? RefusalOf(McpServerOptions options, PolicyTarget kind, string name, ClaimsPrincipal caller)
    {
        if (ListOf(options, kind).RefusalOf(name) is { } listed)
        {
            return $"{KeyOf(kind)}.{listed}";
        }

        for (var i = 0; i < options.Policy.Count; i++)
        {
            var rule = options.Policy[i];
            if (TargetsOf(rule, kind).Any(pattern => FileSystemName.MatchesSimpleExpression(pattern, name, ignoreCase: false)) && Matches(rule, caller))
            {
                return rule.Action == PolicyAction.Allow ? null : $"policy '{rule.Name ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)}'";
            }
        }

        return options.PolicyDefault == PolicyAction.Allow ? null : "policyDefault deny";
    }

    private static bool Matches(PolicyRuleOptions rule, ClaimsPrincipal caller) =>
        (rule.Roles.Count == 0 || rule.Roles.Any(role => Has(caller, "roles", role)))
        && (rule.Groups.Count == 0 || rule.Groups.Any(group => Has(caller, "groups", group)))
        && rule.Scopes.All(scope => ScopesOf(caller).Contains(scope))
        && (rule.Subjects.Count == 0 || rule.Subjects.Contains(caller.FindFirst("sub")?.Value))
        && (rule.Clients.Count == 0 || rule.Clients.Contains((caller.FindFirst("azp") ?? caller.FindFirst("client_id") ?? caller.FindFirst("appid"))?.Value))
        && rule.Claims.All(claim => Has(caller, claim.Key, claim.Value));

    private static bool Has(ClaimsPrincipal caller, string type, string value) => caller.HasClaim(type, value);

    // OAuth's 'scope' is one space-separated claim; Entra's 'scp' the same.
    private static IEnumerable<string> ScopesOf(ClaimsPrincipal caller) =>
        caller.FindAll(c => c.Type is "scope" or "scp").SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));

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
