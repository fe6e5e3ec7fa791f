using Gateway.Transforms.Configuration;
using Gateway.Transforms.Pinning;
using Gateway.Transforms.Redis;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the pins of tool definitions and their store.</summary>
public static class ToolPinsExtensions
{
    internal static IServiceCollection AddToolPins(this IServiceCollection services, StartupOptions startup, RedisConnections redis)
    {
        ArgumentNullException.ThrowIfNull(startup);
        services.AddSingleton<IToolPinStore>(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger<ToolPins>();
            var options = startup.ToolPins;
            return RedisOf(startup) is { } connection
                ? new RedisToolPinStore(redis.GetAsync(connection), options.RedisKey, sp.GetRequiredService<TimeProvider>(), logger)
                : new FileToolPinStore(FileOf(startup), logger);
        });
        services.AddSingleton<ToolPinReporter>();
        services.AddSingleton<ToolPins>();
        return services;
    }

    /// <summary>Where the pins are kept, as the start-up log names it.</summary>
    internal static string LocationOf(StartupOptions startup) => RedisOf(startup) is { } redis
        ? "Redis " + RedisCircuit.ConnectionOptions(redis).EndPoints.FirstOrDefault()
        : FileOf(startup);

    // Their own Redis, else the one the gateway already shares between replicas: pins are shared state of the same kind.
    private static string? RedisOf(StartupOptions startup) =>
        string.IsNullOrWhiteSpace(startup.ToolPins.Redis) ? startup.SharedRedis : startup.ToolPins.Redis;

    private static string FileOf(StartupOptions startup) =>
        startup.ToolPins.File ?? Path.Combine(startup.DataProtection.KeysDirectory ?? DefaultKeyRingDirectory(), "tool-pins.json");

    /// <summary>Where Data Protection keeps its key ring when told nothing: <c>~/.aspnet/DataProtection-Keys</c>.</summary>
    private static string DefaultKeyRingDirectory()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, ".aspnet", "DataProtection-Keys");
    }
}
