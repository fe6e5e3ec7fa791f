using Microsoft.AspNetCore.Http;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace Gateway.Transforms.VirtualServers;

/// <summary>The SDK's hooks for sessions that move between replicas, answered from the virtual session store.</summary>
internal sealed class VirtualSessionMigration(VirtualServerSessions sessions) : ISessionMigrationHandler
{
    public async ValueTask OnSessionInitializedAsync(HttpContext context, string sessionId, InitializeRequestParams initializeParams, CancellationToken cancellationToken) =>
        await sessions.InitializedAsync(context, sessionId, initializeParams, cancellationToken).ConfigureAwait(false);

    public async ValueTask<InitializeRequestParams?> AllowSessionMigrationAsync(HttpContext context, string sessionId, CancellationToken cancellationToken) =>
        await sessions.MigrateAsync(context, sessionId, cancellationToken).ConfigureAwait(false);
}
