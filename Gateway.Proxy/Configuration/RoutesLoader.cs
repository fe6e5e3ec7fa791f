using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Configuration;

/// <summary>Binds the <c>servers</c> and <c>gateway</c> sections of the configuration and validates them.</summary>
public static class RoutesLoader
{
    private static readonly GatewayOptionsValidator Validator = new();

    /// <summary>Returns the options, or every error found; unknown keys (typos) are errors too.</summary>
    public static GatewayOptions? Load(IConfiguration configuration, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new GatewayOptions();
        var bindErrors = new List<string>();
        Bind(configuration.GetSection("servers"), options.Servers, bindErrors);
        Bind(configuration.GetSection("gateway"), options.Gateway, bindErrors);
        if (bindErrors.Count > 0)
        {
            errors = bindErrors;
            return null;
        }

        var result = Validator.Validate(Options.DefaultName, options);
        errors = result.Failed ? [.. result.Failures] : [];
        return result.Failed ? null : options;
    }

    private static void Bind(IConfigurationSection section, object target, List<string> errors)
    {
        try
        {
            section.Bind(target, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            errors.Add($"{section.Path}: {ex.Message} Check the spelling of the key and the format of the value (durations are 'hh:mm:ss').");
        }
    }
}
