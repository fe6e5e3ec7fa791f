namespace Gateway.Transforms.VirtualServers;

/// <summary>The protocol facts a virtual server depends on.</summary>
internal static class VirtualServerProtocol
{
    /// <summary>
    /// What a virtual server speaks to its members, newest first: the revisions with sessions, so that a member's
    /// session id, sealed by its route, is what any replica needs to continue it.
    /// </summary>
    public static readonly IReadOnlyList<string> MemberProtocolVersions = ["2025-11-25", "2025-06-18", "2025-03-26"];

    /// <summary>The revision a member session is taken to speak when it did not say.</summary>
    public static string MemberProtocolVersion => MemberProtocolVersions[0];

    /// <summary>How the C# SDK's client says that the server answered initialize with another revision than asked.</summary>
    public const string VersionMismatch = "Server protocol version mismatch";
}
