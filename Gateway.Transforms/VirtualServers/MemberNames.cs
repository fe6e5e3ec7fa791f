namespace Gateway.Transforms.VirtualServers;

/// <summary>The names a virtual server gives its members' tools and prompts, and the way back to member and name.</summary>
internal static class MemberNames
{
    public const string Separator = "__";

    /// <summary>The name the client sees.</summary>
    public static string Of(ToolNaming naming, string member, string name) =>
        naming == ToolNaming.Prefixed ? member + Separator + name : name;

    /// <summary>Splits a prefixed name at its first separator; false when it has none.</summary>
    public static bool TrySplit(string name, out string member, out string memberName)
    {
        var at = name.IndexOf(Separator, StringComparison.Ordinal);
        if (at <= 0)
        {
            member = memberName = string.Empty;
            return false;
        }

        member = name[..at];
        memberName = name[(at + Separator.Length)..];
        return memberName.Length > 0;
    }
}
