using Gateway.Transforms.Configuration;

namespace Gateway.Transforms.Policy;

/// <summary>Checks a server's <c>tools</c>, <c>resources</c> and <c>prompts</c> lists.</summary>
internal static class PolicyValidator
{
    public static void ValidateServer(string key, McpServerOptions server, List<string> errors)
    {
        Validate($"{key}.tools", server.Tools, errors);
        Validate($"{key}.resources", server.Resources, errors);
        Validate($"{key}.prompts", server.Prompts, errors);
    }

    private static void Validate(string key, AccessListOptions list, List<string> errors)
    {
        foreach (var (name, patterns) in new[] { ("allow", list.Allow), ("deny", list.Deny) })
        {
            for (var i = 0; i < patterns.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(patterns[i]) || patterns[i] != patterns[i].Trim())
                {
                    errors.Add($"{key}.{name}[{i}]: '{patterns[i]}' is no pattern. Give a name or a glob with * and ?, e.g. 'delete_*', without spaces around it.");
                }
            }
        }
    }
}
