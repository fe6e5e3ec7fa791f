using Gateway.Transforms.Forwarding;
using Gateway.Transforms.Policy;
using Gateway.Transforms.Sessions;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Telemetry;
using Gateway.Transforms.UpstreamTokens;

namespace Gateway.Transforms.Pipeline;

/// <summary>
/// The gateway's own transforms, one instance each for every route: they keep no per-route state and read the
/// request's <see cref="McpRequestContext"/>, so a route built before a reload still applies the options in force.
/// </summary>
internal sealed class McpTransforms(
    StaticHeadersTransform staticHeaders, UpstreamTokenTransform upstreamToken, BridgeBusyTransform bridgeBusy, SessionIdResponseTransform sessionIdResponse, ListFilterTransform listFilter,
    EventStreamStartTransform eventStreamStart)
{
    public ConnectionNominatedRequestHeadersTransform ConnectionNominatedRequest { get; } = new();

    public StaticHeadersTransform StaticHeaders { get; } = staticHeaders;

    public UpstreamTokenTransform UpstreamToken { get; } = upstreamToken;

    public SessionIdRequestTransform SessionIdRequest { get; } = new();

    public UpstreamCallStartTransform UpstreamCallStart { get; } = new();

    public ConnectionNominatedResponseHeadersTransform ConnectionNominatedResponse { get; } = new();

    public BridgeBusyTransform BridgeBusy { get; } = bridgeBusy;

    public ListFilterTransform ListFilter { get; } = listFilter;

    public SessionIdResponseTransform SessionIdResponse { get; } = sessionIdResponse;

    public EventStreamStartTransform EventStreamStart { get; } = eventStreamStart;
}
