using Microsoft.Playwright;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium (the <c>chromium</c> package, which <c>.ci/run</c> installs), headless and driven by Playwright;
/// Playwright's own browsers are never downloaded.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private const string ExecutablePath = "/usr/bin/chromium";

    // Without the background-networking switches Chromium calls Google's services at start, which a closed network refuses.
    private static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is not installed. Install it with 'apt-get install -y chromium' (.ci/run does).");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            return new HeadlessChromium(playwright, await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ExecutablePath, Args = Args }));
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
