namespace Gateway.Transforms.VirtualServers;

/// <summary>The protocol facts a virtual server depends on.</summary>
internal static class VirtualServerProtocol
{
    /// <summary>
    /// What a virtual server speaks to its members: the last revision with sessions, so that a member's session id,
    /// sealed by its route, is what any replica needs to continue it.
    /// </summary>
    public const string MemberProtocolVersion = "2025-11-25";
}
