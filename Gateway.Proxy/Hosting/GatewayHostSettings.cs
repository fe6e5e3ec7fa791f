using Gateway.Mcp;

namespace Gateway.Proxy.Hosting;

/// <summary>
/// Where the routes file is and where the gateway listens, from the command line (<c>--routes</c>, <c>--host</c>,
/// <c>--port</c>) or the environment (<c>GATEWAY_ROUTES_FILE</c> or <c>SERVICE_REGISTRY_FILE</c>,
/// <c>GATEWAY_HOST</c>, <c>GATEWAY_PORT</c>). ASP.NET Core's own <c>--urls</c>/<c>ASPNETCORE_URLS</c> apply when
/// neither host nor port is given.
/// </summary>
internal sealed record GatewayHostSettings(string RoutesPath, string? Urls)
{
    public const string DefaultHost = "127.0.0.1";
    public const int DefaultPort = 8080;

    public static GatewayHostSettings From(IConfiguration configuration, string currentDirectory)
    {
        var routes = configuration["routes"] ?? configuration["GATEWAY_ROUTES_FILE"] ?? configuration["SERVICE_REGISTRY_FILE"]
            ?? Path.Combine(AppContext.BaseDirectory, "routes.yaml");
        var host = configuration["host"] ?? configuration["GATEWAY_HOST"];
        var port = configuration["port"] ?? configuration["GATEWAY_PORT"];
        var urls = host is null && port is null && configuration["urls"] is not null
            ? null
            : ListenUrl.Of(host ?? DefaultHost, port ?? DefaultPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new GatewayHostSettings(Path.GetFullPath(routes, currentDirectory), urls);
    }

}
