using Gateway.Transforms.Redis;
using Gateway.Transforms.Sessions;
using Microsoft.AspNetCore.DataProtection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The key ring that seals session ids (and the token cache's Redis entries); every replica of a deployment must share it.</summary>
public static class SessionKeyRingExtensions
{
    internal static IServiceCollection AddMcpSessionKeyRing(this IServiceCollection services, KeyRingOptions options, RedisConnections redis)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dataProtection = services.AddDataProtection().SetApplicationName(options.ApplicationName);
        if (!string.IsNullOrWhiteSpace(options.KeysDirectory))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(options.KeysDirectory));
        }
        else if (options.Redis is { Length: > 0 } connectionString)
        {
            // Data Protection reads its key ring synchronously. The connection is begun here, at start-up, so that
            // only a read before it is up (or with Redis down) waits for it; an unreachable Redis does not stop the start.
            var connection = redis.GetAsync(connectionString);
            dataProtection.PersistKeysToStackExchangeRedis(() => connection.GetAwaiter().GetResult().GetDatabase(), options.RedisKey);
        }

        return services;
    }
}
