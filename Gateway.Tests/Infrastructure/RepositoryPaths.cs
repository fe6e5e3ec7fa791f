namespace Gateway.Tests.Infrastructure;

/// <summary>Where the repository is, for tests that check its files (dashboards, manifests).</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Gateway.sln not found above the test's folder.");
    }
}
