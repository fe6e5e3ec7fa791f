using Microsoft.Extensions.Logging.Console;

namespace Gateway.Proxy.Hosting;

/// <summary>
/// The Bridge gateway's logging variables: <c>LOG_LEVEL</c> (<c>debug</c>, <c>info</c>, <c>warning</c>,
/// <c>error</c>, <c>critical</c>, or a .NET level name) and <c>LOG_FORMAT</c> (<c>json</c> or <c>text</c>).
/// <c>Logging__…</c> settings still refine them per category.
/// </summary>
internal static partial class BridgeLoggingVariables
{
    private static readonly Dictionary<string, LogLevel> Levels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["trace"] = LogLevel.Trace,
        ["debug"] = LogLevel.Debug,
        ["info"] = LogLevel.Information,
        ["information"] = LogLevel.Information,
        ["warn"] = LogLevel.Warning,
        ["warning"] = LogLevel.Warning,
        ["error"] = LogLevel.Error,
        ["critical"] = LogLevel.Critical,
        ["fatal"] = LogLevel.Critical,
        ["none"] = LogLevel.None,
    };

    /// <summary>Applies the variables to the builder; returns what could not be applied, to be logged once logging runs.</summary>
    public static string? Apply(WebApplicationBuilder builder)
    {
        var problems = new List<string>();
        if (builder.Configuration["LOG_LEVEL"] is { Length: > 0 } level)
        {
            if (Levels.TryGetValue(level, out var parsed))
            {
                builder.Configuration["Logging:LogLevel:Default"] = parsed.ToString();
            }
            else
            {
                problems.Add($"LOG_LEVEL '{level}' is not a level; use one of: debug, info, warning, error, critical.");
            }
        }

        switch (builder.Configuration["LOG_FORMAT"]?.ToLowerInvariant())
        {
            case null or "":
                break;
            case "json":
                builder.Logging.AddConsole(o => o.FormatterName = ConsoleFormatterNames.Json);
                break;
            case "text":
                builder.Logging.AddConsole(o => o.FormatterName = ConsoleFormatterNames.Simple);
                break;
            case var other:
                problems.Add($"LOG_FORMAT '{other}' is not a format; use json or text.");
                break;
        }

        return problems.Count == 0 ? null : string.Join(" ", problems);
    }

    public static void Report(ILogger logger, string? problems)
    {
        if (problems is not null)
        {
            LogIgnored(logger, problems);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Problems} The default applies.")]
    private static partial void LogIgnored(ILogger logger, string problems);
}
