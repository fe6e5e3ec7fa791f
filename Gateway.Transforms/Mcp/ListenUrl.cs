namespace Gateway.Mcp;

/// <summary>The URL Kestrel listens on for a host and port as a user gives them (an IPv6 address gets its brackets).</summary>
internal static class ListenUrl
{
    public static string Of(string host, string port)
    {
        ArgumentNullException.ThrowIfNull(host);
        var bracketed = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
        return $"http://{bracketed}:{port}";
    }
}
