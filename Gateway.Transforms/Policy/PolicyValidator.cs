using Gateway.Transforms.Configuration;

namespace Gateway.Transforms.Policy;

/// <summary>Checks a server's <c>tools</c>, <c>resources</c> and <c>prompts</c> lists and its <c>policy</c> rules.</summary>
internal static class PolicyValidator
{
    public static void ValidateServer(string key, McpServerOptions server, List<string> errors)
    {
        foreach (var (section, list) in new[] { ("tools", server.Tools), ("resources", server.Resources), ("prompts", server.Prompts) })
        {
            ValidatePatterns($"{key}.{section}.allow", list.Allow, errors);
            ValidatePatterns($"{key}.{section}.deny", list.Deny, errors);
        }

        for (var i = 0; i < server.Policy.Count; i++)
        {
            var rule = server.Policy[i];
            var ruleKey = $"{key}.policy[{i}]";
            if (rule.Tools.Count + rule.Resources.Count + rule.Prompts.Count == 0)
            {
                errors.Add($"{ruleKey}: names no tools, resources or prompts, so it decides nothing. Add e.g. 'tools: [\"*\"]'.");
            }

            ValidatePatterns($"{ruleKey}.tools", rule.Tools, errors);
            ValidatePatterns($"{ruleKey}.resources", rule.Resources, errors);
            ValidatePatterns($"{ruleKey}.prompts", rule.Prompts, errors);
            foreach (var (condition, values) in new[] { ("roles", rule.Roles), ("scopes", rule.Scopes), ("groups", rule.Groups), ("subjects", rule.Subjects), ("clients", rule.Clients) })
            {
                if (values.Any(string.IsNullOrWhiteSpace))
                {
                    errors.Add($"{ruleKey}.{condition}: an empty value matches no caller. Remove it.");
                }
            }
        }
    }

    private static void ValidatePatterns(string key, IReadOnlyList<string> patterns, List<string> errors)
    {
        for (var i = 0; i < patterns.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(patterns[i]) || patterns[i] != patterns[i].Trim())
            {
                errors.Add($"{key}[{i}]: '{patterns[i]}' is no pattern. Give a name or a glob with * and ?, e.g. 'delete_*', without spaces around it.");
            }
        }
    }
}
