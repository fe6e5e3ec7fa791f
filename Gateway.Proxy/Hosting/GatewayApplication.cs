using Gateway.StdioBridge.Hosting;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.Forwarding;
using Gateway.Transforms.VirtualServers;

namespace Gateway.Proxy.Hosting;

/// <summary>Builds the gateway: the same host for <c>Program</c>, the tests and the benchmark.</summary>
public static class GatewayApplication
{
    /// <summary>Environment variables with this prefix override routes.yaml keys, e.g. <c>GATEWAY__servers__x__headers__X-Api-Key</c>.</summary>
    public const string EnvironmentPrefix = "GATEWAY__";

    // Kestrel takes a bare LF as a line end; a front proxy that reads the same bytes as one header value would then
    // disagree with the gateway about where headers end (a desync). Only CRLF is accepted.
    private const string RejectBareLineFeedsSwitch = "Microsoft.AspNetCore.Server.Kestrel.DisableHttp1LineFeedTerminators";

    /// <summary>Builds the gateway from command-line arguments, with its stdio bridge already listening.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="configure">A last say over the builder before it builds (e.g. extra logging providers).</param>
    /// <exception cref="InvalidRoutesException">The routes file is missing, does not parse or does not validate.</exception>
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The content root is the executable's folder, so its appsettings.json applies wherever the gateway is started
        // from; a relative routes path is still taken from the current directory, as a user typing it expects.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var settings = GatewayHostSettings.From(builder.Configuration, Environment.CurrentDirectory);
        // Beside the gateway's own address, the socket through which virtual servers call their members.
        var members = new MemberCallEndpoint();
        builder.WebHost.UseUrls(string.Join(';', settings.Urls ?? builder.Configuration["urls"], members.ListenUrl));

        var loggingProblems = BridgeLoggingVariables.Apply(builder);
        AppContext.SetSwitch(RejectBareLineFeedsSwitch, true);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.RequestHeaderEncodingSelector = ConnectionHeaderEncoding.For;
        });

        var routesFile = new RoutesFile(settings.RoutesPath);
        AddRoutesFile(builder.Configuration, routesFile);
        var configuration = RoutesLoader.Load(builder.Configuration, out var errors) ?? throw new InvalidRoutesException(routesFile.Path, errors);

        builder.Services.AddMcpGateway(routesFile, configuration, members);
        builder.Services.AddGatewayTelemetry(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        configure?.Invoke(builder);
        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GatewayApplication));
        BridgeLoggingVariables.Report(logger, loggingProblems);
        GatewayStartLog.RoutesFile(logger, routesFile.Path);
        GatewayStartLog.ToolPins(logger, ToolPinsExtensions.LocationOf(configuration.Startup));

        // The proxy routes of stdio servers point at the bridge, so it must listen before they are built.
        var bridge = app.Services.GetRequiredService<StdioBridgeHost>();
        await bridge.ListenAsync(app.Lifetime.ApplicationStopping).ConfigureAwait(false);
        app.MapMcpGateway();
        app.Lifetime.ApplicationStarted.Register(() => GatewayStartLog.Serving(app, app.Services.GetRequiredService<RoutesConfigStore>(), bridge.BaseAddress));
        return app;
    }

    private static void AddRoutesFile(ConfigurationManager configuration, RoutesFile routesFile)
    {
        if (!File.Exists(routesFile.Path))
        {
            throw new InvalidRoutesException(routesFile.Path, [$"The file does not exist. Name the routes file with --routes <path> or GATEWAY_ROUTES_FILE."]);
        }

        try
        {
            configuration.AddYamlFile(source =>
            {
                source.Path = routesFile.Path;
                source.Optional = false;
                source.ReloadOnChange = true;
                source.ResolveFileProvider();
                source.OnLoadException = failure =>
                {
                    // At start-up a bad file stops the gateway; later, the last good routes stay in force.
                    if (routesFile.Loaded)
                    {
                        routesFile.RecordParseError(failure.Exception);
                        failure.Ignore = true;
                    }
                };
            });
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidRoutesException(routesFile.Path, routesFile.ProblemsOf(ex));
        }

        routesFile.Loaded = true;
        configuration.AddEnvironmentVariables(EnvironmentPrefix);
    }
}
