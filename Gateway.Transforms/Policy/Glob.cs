using System.IO.Enumeration;

namespace Gateway.Transforms.Policy;

/// <summary>The globs of the lists and rules (<c>*</c>, <c>?</c>), matched case-sensitively, as tool names and URIs are.</summary>
internal static class Glob
{
    /// <summary>The first of <paramref name="patterns"/> that <paramref name="name"/> matches; null when none does.</summary>
    public static string? FirstMatch(IReadOnlyList<string> patterns, string name)
    {
        foreach (var pattern in patterns)
        {
            if (FileSystemName.MatchesSimpleExpression(pattern, name, ignoreCase: false))
            {
                return pattern;
            }
        }

        return null;
    }
}
