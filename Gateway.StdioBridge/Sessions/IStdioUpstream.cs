using ModelContextProtocol.Protocol;

namespace Gateway.StdioBridge.Sessions;

/// <summary>The stdio side of sessions: a process of the session's own, or one shared by several sessions.</summary>
/// <remarks>It delivers what the process says through <see cref="StdioSession.DeliverAsync"/>, and tells each session
/// when the process is gone with <see cref="StdioSession.UpstreamEndedAsync"/>.</remarks>
internal interface IStdioUpstream
{
    string Server { get; }

    /// <summary>Joins a session; from now on it gets the process's messages meant for it.</summary>
    void Attach(StdioSession session);

    /// <summary>Sends a client message of <paramref name="from"/> to the process.</summary>
    Task SendAsync(StdioSession from, JsonRpcMessage message, CancellationToken cancellationToken);

    /// <summary>Leaves; for a dedicated process, this stops it.</summary>
    ValueTask DetachAsync(StdioSession session);
}
