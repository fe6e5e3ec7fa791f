namespace Gateway.Mcp;

/// <summary>The JSON-RPC error codes the gateway answers with.</summary>
/// <remarks>
/// JSON-RPC and MCP own -32768 … -32000; MCP asks implementations to allocate their own codes outside it,
/// so the gateway's own conditions use the -31xxx block.
/// </remarks>
internal static class JsonRpcErrorCodes
{
    /// <summary>The body is not valid JSON.</summary>
    public const int ParseError = -32700;

    /// <summary>The body is JSON but not a single JSON-RPC message (a batch, a bare value, a wrong version).</summary>
    public const int InvalidRequest = -32600;

    /// <summary>What MCP servers answer for an unknown tool or prompt name (and the SDKs for a resource not found).</summary>
    public const int InvalidParams = -32602;

    /// <summary>MCP 2026-07-28 <c>HeaderMismatch</c>: a mirrored header disagrees with the body.</summary>
    public const int HeaderMismatch = -32020;

    /// <summary>No server of that name is configured.</summary>
    public const int UnknownServer = -31001;

    /// <summary>The session id is unknown, forged, expired, someone else's, or its upstream is gone.</summary>
    public const int SessionNotFound = -31002;

    /// <summary>The body is larger than the configured limit.</summary>
    public const int PayloadTooLarge = -31003;

    /// <summary>The <c>Origin</c> header is not allowed (DNS-rebinding defence).</summary>
    public const int OriginNotAllowed = -31004;

    /// <summary>The upstream could not be reached or failed before answering.</summary>
    public const int UpstreamUnavailable = -31005;

    /// <summary>The upstream did not answer in time.</summary>
    public const int UpstreamTimeout = -31006;

    /// <summary>A stdio server has as many processes running as it may; retry after <c>Retry-After</c>.</summary>
    public const int ServerBusy = -31007;

    /// <summary>No valid token for this server: missing, expired, foreign or malformed (HTTP 401).</summary>
    public const int Unauthorized = -31008;

    /// <summary>A valid token without the scopes or roles this server requires (HTTP 403).</summary>
    public const int InsufficientScope = -31009;

    /// <summary>The gateway could not obtain a token for the upstream: the IdP refused or is unreachable.</summary>
    public const int UpstreamTokenUnavailable = -31010;

    /// <summary>Every destination of the server has failed too often and its circuit is open; retry after <c>Retry-After</c>.</summary>
    public const int UpstreamCircuitOpen = -31011;

    /// <summary>The caller sent more requests than the server's (or the tool's) rate limit allows; retry after <c>Retry-After</c>.</summary>
    public const int RateLimited = -31012;

    /// <summary>A request to a stdio bridge without the bridge's access key (the gateway's own bridge serves the gateway only).</summary>
    public const int BridgeAccessDenied = -31013;

    /// <summary>A header the gateway cannot forward: a value that is not ASCII (HTTP/1.1 and HTTP/2 carry ASCII only).</summary>
    public const int InvalidHeader = -31014;
}
