namespace Gateway.Transforms.Shutdown;

/// <summary>Checks <c>gateway.shutdown</c>.</summary>
internal static class ShutdownValidator
{
    public static void Validate(ShutdownOptions shutdown, List<string> errors)
    {
        if (shutdown.DrainDelay < TimeSpan.Zero || shutdown.DrainDelay >= shutdown.GracePeriod)
        {
            errors.Add($"gateway.shutdown: drainDelay '{shutdown.DrainDelay}' must be at least zero and shorter than gracePeriod '{shutdown.GracePeriod}' (defaults 5s and 30s).");
        }
    }
}
