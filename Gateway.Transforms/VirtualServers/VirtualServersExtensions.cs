using Gateway.Transforms.Configuration;
using Gateway.Transforms.Redis;
using Gateway.Transforms.VirtualServers;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the virtual servers: the C# SDK's server side, the member call endpoint and the session store.</summary>
public static class VirtualServersExtensions
{
    private const string RedisPrefix = "mcp-gateway:virtual-session:";

    internal static IServiceCollection AddVirtualServers(this IServiceCollection services, StartupOptions startup, RedisConnections redis, MemberCallEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(startup);
        // By factory, so that the container disposes it (and its socket's folder) with the gateway.
        services.AddSingleton(_ => endpoint);
        services.AddHttpContextAccessor();
        services.Configure<RouteOptions>(o => o.SetParameterPolicy<VirtualServerRouteConstraint>(VirtualServerEndpoints.RouteConstraint));
        services.AddSingleton(sp => new VirtualSessionStore(
            startup.SharedRedis is { } connection
                ? new VirtualSessionStore.RedisHashes(redis.GetAsync(connection), RedisPrefix, startup.Sessions.Lifetime)
                : new VirtualSessionStore.MemoryHashes(),
            sp.GetRequiredService<ILogger<VirtualSessionStore>>()));
        services.AddSingleton<VirtualServerSessions>();
        services.AddSingleton<DirectMemberCalls>();
        services.AddSingleton<ISessionMigrationHandler, VirtualSessionMigration>();
        services.AddMcpServer().WithHttpTransport(transport =>
        {
            // 2025 clients get sessions (which the store lets any replica continue); 2026-07-28 clients are served per request.
            transport.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
#pragma warning disable MCP9006 // sessions are what 2025 clients need; they last as long as the gateway's own
            transport.IdleTimeout = startup.Sessions.Lifetime;
#pragma warning restore MCP9006
            transport.ConfigureSessionOptions = (http, options, ct) => http.RequestServices.GetRequiredService<VirtualServerSessions>().ConfigureAsync(http, options, ct);
#pragma warning disable MCPEXP002 // the session's end is when its member sessions end
            transport.RunSessionHandler = (http, server, ct) => http.RequestServices.GetRequiredService<VirtualServerSessions>().RunAsync(http, server, ct);
#pragma warning restore MCPEXP002
        });
        return services;
    }
}
