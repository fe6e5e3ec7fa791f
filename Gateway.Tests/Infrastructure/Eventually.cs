namespace Gateway.Tests.Infrastructure;

/// <summary>Waits for a condition that becomes true asynchronously (a file reload, a health probe).</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, int timeoutSeconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"The condition did not become true within {timeoutSeconds} s.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
