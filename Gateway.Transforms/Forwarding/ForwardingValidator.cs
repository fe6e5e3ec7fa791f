using System.Reflection;
using System.Text.RegularExpressions;
using Gateway.Transforms.Configuration;
using Yarp.ReverseProxy.LoadBalancing;

namespace Gateway.Transforms.Forwarding;

/// <summary>Checks how a server is reached: its destinations, load balancing, timeouts, health probes and static headers.</summary>
internal static partial class ForwardingValidator
{
    /// <summary>YARP's built-in policies, by the names YARP gives them.</summary>
    private static readonly string[] LoadBalancingPolicyNames = [.. typeof(LoadBalancingPolicies)
        .GetProperties(BindingFlags.Public | BindingFlags.Static)
        .Select(p => (string)p.GetValue(null)!)];

    public static void ValidateDestinations(string key, IReadOnlyList<DestinationOptions> destinations, List<string> errors)
    {
        if (destinations.Count == 0)
        {
            errors.Add($"{key}.destinations: an http server needs at least one destination, e.g. 'destinations: [ {{ url: http://127.0.0.1:3001/mcp }} ]'.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < destinations.Count; i++)
        {
            var url = destinations[i].Url;
            var urlKey = $"{key}.destinations[{i}].url";
            if (string.IsNullOrWhiteSpace(url))
            {
                errors.Add($"{urlKey}: missing. Give the upstream MCP endpoint's absolute URL, e.g. 'http://127.0.0.1:3001/mcp'.");
            }
            else if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                errors.Add($"{urlKey}: '{url}' is not an absolute http(s) URL, e.g. 'http://127.0.0.1:3001/mcp'.");
            }
            else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                errors.Add($"{urlKey}: '{url}' has a query, fragment or user info. Give the endpoint URL only; put credentials in 'headers'.");
            }
            else if (!seen.Add(url))
            {
                errors.Add($"{urlKey}: '{url}' is listed twice. Remove the duplicate.");
            }
        }
    }

    public static void ValidateServer(string key, McpServerOptions server, List<string> errors)
    {
        if (!LoadBalancingPolicyNames.Contains(server.LoadBalancing, StringComparer.Ordinal))
        {
            errors.Add($"{key}.loadBalancing: '{server.LoadBalancing}' is not a policy. Use one of: {string.Join(", ", LoadBalancingPolicyNames)}.");
        }

        RoutesValidator.RequirePositive($"{key}.timeouts.connect", server.Timeouts.Connect, errors);
        RoutesValidator.RequirePositive($"{key}.timeouts.activity", server.Timeouts.Activity, errors);
        RoutesValidator.RequirePositive($"{key}.healthCheck.interval", server.HealthCheck.Interval, errors);
        RoutesValidator.RequirePositive($"{key}.healthCheck.timeout", server.HealthCheck.Timeout, errors);
        foreach (var (header, value) in server.Headers)
        {
            if (!HeaderNamePattern().IsMatch(header))
            {
                errors.Add($"{key}.headers.{header}: not a valid HTTP header name. Use letters, digits and '-'.");
            }
            else if (StaticHeadersTransform.Reserved.Contains(header))
            {
                errors.Add($"{key}.headers.{header}: the gateway sets this header itself. Remove it.");
            }
            else if (string.IsNullOrWhiteSpace(value) || value.Any(c => c is '\r' or '\n' or '\0'))
            {
                errors.Add($"{key}.headers.{header}: the value is missing or has a line break. Give a single-line value.");
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9-]+$")]
    private static partial Regex HeaderNamePattern();
}
