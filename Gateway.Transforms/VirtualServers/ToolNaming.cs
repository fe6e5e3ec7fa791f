using System.Runtime.Serialization;

namespace Gateway.Transforms.VirtualServers;

/// <summary>How a virtual server names its members' tools and prompts: <c>servers.&lt;name&gt;.toolNames</c>.</summary>
public enum ToolNaming
{
    /// <summary><c>&lt;member&gt;__&lt;name&gt;</c>: names of different members never collide.</summary>
    [EnumMember(Value = "prefixed")]
    Prefixed,

    /// <summary>The members' own names; a name two members both list is left out, with an error in the log.</summary>
    [EnumMember(Value = "unchanged")]
    Unchanged,
}
