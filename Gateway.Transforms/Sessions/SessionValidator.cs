namespace Gateway.Transforms.Sessions;

/// <summary>Checks <c>gateway.sessions</c> and <c>gateway.dataProtection</c>.</summary>
internal static class SessionValidator
{
    public static void Validate(SessionOptions sessions, KeyRingOptions dataProtection, List<string> errors)
    {
        if (sessions.Lifetime <= TimeSpan.Zero)
        {
            errors.Add($"gateway.sessions.lifetime: '{sessions.Lifetime}' must be positive, e.g. '1d' for a day.");
        }

        if (!string.IsNullOrWhiteSpace(dataProtection.KeysDirectory) && !string.IsNullOrWhiteSpace(dataProtection.Redis))
        {
            errors.Add("gateway.dataProtection: both 'keysDirectory' and 'redis' are set. Keep the key ring in one place: remove one of them.");
        }

        if (string.IsNullOrWhiteSpace(dataProtection.ApplicationName))
        {
            errors.Add("gateway.dataProtection.applicationName: must not be empty; every replica of one deployment uses the same name.");
        }
    }
}
