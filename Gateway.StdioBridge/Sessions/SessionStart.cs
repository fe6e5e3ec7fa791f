namespace Gateway.StdioBridge.Sessions;

/// <summary>A started session, or why none was started.</summary>
internal readonly record struct SessionStart(StdioSession? Session, SessionRefusal Refusal);

internal enum SessionRefusal
{
    None,

    /// <summary>Every process the server may run is answering a request.</summary>
    ServerBusy,

    /// <summary>The caller has as many sessions of the server as it may, each answering a request.</summary>
    CallerAtLimit,
}
