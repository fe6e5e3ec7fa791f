using Gateway.Mcp;

namespace Gateway.Proxy.Hosting;

/// <summary>
/// Where the routes file is and where the gateway listens, from the command line (<c>--routes</c>, <c>--host</c>,
/// <c>--port</c>) or the environment (<c>GATEWAY_ROUTES_FILE</c> or <c>SERVICE_REGISTRY_FILE</c>,
/// <c>GATEWAY_HOST</c> or <c>HOST</c>, <c>GATEWAY_PORT</c> or <c>PORT</c>, as the Bridge gateway reads them). ASP.NET
/// Core's own <c>--urls</c>/<c>ASPNETCORE_URLS</c> apply when neither host nor port is given. Without a file named,
/// <c>routes.yaml</c> in the current directory is used (the repository's, for <c>dotnet run</c>), else the one beside
/// the executable.
/// </summary>
internal sealed record GatewayHostSettings(string RoutesPath, string? Urls)
{
    public const string DefaultHost = "127.0.0.1";
    public const int DefaultPort = 8080;

    public static GatewayHostSettings From(IConfiguration configuration, string currentDirectory)
    {
        var routes = configuration["routes"] ?? configuration["GATEWAY_ROUTES_FILE"] ?? configuration["SERVICE_REGISTRY_FILE"]
            ?? DefaultRoutesPath(currentDirectory);
        // --host and the HOST variable are one configuration key (likewise port).
        var host = configuration["host"] ?? configuration["GATEWAY_HOST"];
        var port = configuration["port"] ?? configuration["GATEWAY_PORT"];
        var urls = host is null && port is null && configuration["urls"] is not null
            ? null
            : ListenUrl.Of(host ?? DefaultHost, port ?? DefaultPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new GatewayHostSettings(Path.GetFullPath(routes, currentDirectory), urls);
    }

    private static string DefaultRoutesPath(string currentDirectory)
    {
        var here = Path.Combine(currentDirectory, "routes.yaml");
        return File.Exists(here) ? here : Path.Combine(AppContext.BaseDirectory, "routes.yaml");
    }

}
