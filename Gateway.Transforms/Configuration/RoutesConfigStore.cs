using Gateway.Transforms.UpstreamTokens;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gateway.Transforms.Configuration;

/// <summary>
/// Holds the routes in force. When the file changes it is loaded again; a change that does not validate is
/// logged and the last good routes stay in force. Start-up keys keep the values the gateway started with: an edit of
/// one is applied without it, and a warning names it.
/// </summary>
public sealed partial class RoutesConfigStore : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly RoutesFile _file;
    private readonly ILogger<RoutesConfigStore> _logger;
    private readonly IDisposable _subscription;
    private readonly IReadOnlyDictionary<string, string?> _startupValues;
    private CancellationTokenSource _changed = new();

    public RoutesConfigStore(IConfiguration configuration, RoutesFile file, GatewayConfiguration initial, ILogger<RoutesConfigStore> logger)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _configuration = configuration;
        _file = file;
        _logger = logger;
        Current = initial.Routes;
        Startup = initial.Startup;
        _startupValues = initial.StartupValues;
        WarnAboutPassthrough(initial.Routes);
        _subscription = Microsoft.Extensions.Primitives.ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>The routes in force.</summary>
    public RoutesOptions Current { get; private set; }

    /// <summary>The start-up settings in force: those the gateway started with.</summary>
    public StartupOptions Startup { get; }

    /// <summary>Why the last edit of the file was refused; null once an edit has been accepted.</summary>
    public string? RejectedEdit { get; private set; }

    /// <summary>Fires when <see cref="Current"/> has been replaced.</summary>
    public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

    private void Reload()
    {
        var parseError = _file.TakeParseError();
        var edit = RoutesLoader.Reload(_configuration, Startup, out var errors);
        if (edit is null || parseError is not null)
        {
            // A file that does not parse reaches us as an empty configuration; report the parse error instead.
            var problems = parseError ?? string.Join(" | ", errors);
            RejectedEdit = problems;
            LogReloadRejected(_logger, _file.Path, problems);
            return;
        }

        foreach (var key in ChangedStartupKeys(edit.StartupValues))
        {
            LogStartupKeyChanged(_logger, key, _file.Path);
        }

        Current = edit.Routes;
        RejectedEdit = null;
        WarnAboutPassthrough(edit.Routes);
        var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        LogReloaded(_logger, _file.Path, edit.Routes.Servers.Count);
        previous.Cancel();
        previous.Dispose();
    }

    private IEnumerable<string> ChangedStartupKeys(IReadOnlyDictionary<string, string?> edited) =>
        edited.Keys.Concat(_startupValues.Keys)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Where(key => !string.Equals(edited.GetValueOrDefault(key), _startupValues.GetValueOrDefault(key), StringComparison.Ordinal))
            .Order(StringComparer.OrdinalIgnoreCase)
            .Select(key => key.Replace(':', '.'));

    private void WarnAboutPassthrough(RoutesOptions options)
    {
        foreach (var (name, server) in options.Servers)
        {
            if (server.UpstreamAuth.Strategy == UpstreamAuthStrategy.Passthrough)
            {
                LogPassthrough(_logger, name);
            }
        }
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _changed.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server {Server} forwards each caller's own token to its upstream (upstreamAuth.strategy: passthrough). The MCP specification forbids token passthrough; use token-exchange or obo unless the upstream is trusted with the caller's token.")]
    private static partial void LogPassthrough(ILogger logger, string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reloaded routes from {Path}: {ServerCount} servers.")]
    private static partial void LogReloaded(ILogger logger, string path, int serverCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key} changed in {Path}, but it is read at start-up only: restart the gateway to apply it. The rest of the edit is applied.")]
    private static partial void LogStartupKeyChanged(ILogger logger, string key, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ignored an invalid edit of {Path}; the last good routes stay in force. Problems: {Problems}")]
    private static partial void LogReloadRejected(ILogger logger, string path, string problems);
}
