using Gateway.Transforms.Configuration;
using Gateway.Transforms.UpstreamTokens;

namespace Gateway.Transforms.VirtualServers;

/// <summary>Checks <c>transport: virtual</c> servers: members that exist and are not virtual, and only the keys a virtual server uses.</summary>
internal static class VirtualServerValidator
{
    public static void ValidateServer(string key, McpServerOptions server, IReadOnlyDictionary<string, McpServerOptions> servers, List<string> errors)
    {
        if (server.Transport != McpTransport.Virtual)
        {
            if (server.Members.Count > 0)
            {
                errors.Add($"{key}.members: only a 'transport: virtual' server has members. Remove 'members', or set 'transport: virtual'.");
            }

            return;
        }

        if (server.Members.Count == 0)
        {
            errors.Add($"{key}.members: a virtual server serves other servers as one. Name them, e.g. 'members: [ github, files ]'.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < server.Members.Count; i++)
        {
            var member = server.Members[i];
            if (!servers.TryGetValue(member, out var options))
            {
                errors.Add($"{key}.members[{i}]: '{member}' is not a configured server. Add 'servers.{member}', or remove it from the members.");
            }
            else if (servers.Keys.FirstOrDefault(k => string.Equals(k, member, StringComparison.OrdinalIgnoreCase)) is { } spelled && spelled != member)
            {
                // One name for one server: its limits, pins and sessions are kept under it.
                errors.Add($"{key}.members[{i}]: the server is spelled '{spelled}'. Write '{spelled}'.");
            }
            else if (options.Transport == McpTransport.Virtual)
            {
                errors.Add($"{key}.members[{i}]: '{member}' is a virtual server itself. Name its members here instead.");
            }

            if (!seen.Add(member))
            {
                errors.Add($"{key}.members[{i}]: '{member}' is named twice. Remove one.");
            }

            if (server.ToolNames == ToolNaming.Prefixed && member.Contains(MemberNames.Separator, StringComparison.Ordinal))
            {
                errors.Add($"{key}.members[{i}]: '{member}' contains '{MemberNames.Separator}', which separates member and tool in prefixed names. Rename the server, or set 'toolNames: unchanged'.");
            }
        }

        RoutesValidator.RequirePositive($"{key}.memberTimeout", server.MemberTimeout, errors);
        NotForVirtual(key, "destinations", server.Destinations.Count > 0, "the members are reached through their own routes", errors);
        NotForVirtual(key, "stdio", server.Stdio is not null, "the members are reached through their own routes", errors);
        NotForVirtual(key, "headers", server.Headers.Count > 0, "set them on the members", errors);
        NotForVirtual(key, "upstreamAuth", server.UpstreamAuth.Strategy != UpstreamAuthStrategy.None, "each member presents its own upstream token", errors);
        NotForVirtual(key, "policy", server.Policy.Count > 0, "set rules on the members: they apply to calls through the virtual server too", errors);
        NotForVirtual(key, "tools", !server.Tools.AllowsEverything, "set the lists on the members: they apply to calls through the virtual server too", errors);
        NotForVirtual(key, "resources", !server.Resources.AllowsEverything, "set the lists on the members", errors);
        NotForVirtual(key, "prompts", !server.Prompts.AllowsEverything, "set the lists on the members", errors);
        var defaults = new McpServerOptions();
        NotForVirtual(key, "circuitBreaker", server.CircuitBreaker != defaults.CircuitBreaker, "each member has its own breakers", errors);
        NotForVirtual(key, "timeouts", server.Timeouts != defaults.Timeouts, "the members' own apply", errors);
        NotForVirtual(key, "loadBalancing", server.LoadBalancing != defaults.LoadBalancing, "each member balances its own destinations", errors);
        NotForVirtual(key, "healthCheck", server.HealthCheck != defaults.HealthCheck, "the members' destinations are probed", errors);
    }

    private static void NotForVirtual(string key, string section, bool set, string why, List<string> errors)
    {
        if (set)
        {
            errors.Add($"{key}.{section}: a virtual server has no {section} of its own: {why}. Remove '{section}'.");
        }
    }
}
