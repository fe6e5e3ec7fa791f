using Gateway.Transforms.UpstreamTokens;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gateway.Transforms.Configuration;

/// <summary>
/// Holds the routes in force. When the file changes it is loaded again; a change that does not validate is
/// logged and the last good routes stay in force.
/// </summary>
public sealed partial class RoutesConfigStore : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly RoutesFile _file;
    private readonly ILogger<RoutesConfigStore> _logger;
    private readonly IDisposable _subscription;
    private CancellationTokenSource _changed = new();

    public RoutesConfigStore(IConfiguration configuration, RoutesFile file, RoutesOptions initial, ILogger<RoutesConfigStore> logger)
    {
        _configuration = configuration;
        _file = file;
        _logger = logger;
        Current = initial;
        WarnAboutPassthrough(initial);
        _subscription = Microsoft.Extensions.Primitives.ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>The routes in force.</summary>
    public RoutesOptions Current { get; private set; }

    /// <summary>Why the last edit of the file was refused; null once an edit has been accepted.</summary>
    public string? RejectedEdit { get; private set; }

    /// <summary>Fires when <see cref="Current"/> has been replaced.</summary>
    public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

    private void Reload()
    {
        var parseError = _file.TakeParseError();
        var options = RoutesLoader.Load(_configuration, out var errors);
        if (options is null || parseError is not null)
        {
            // A file that does not parse reaches us as an empty configuration; report the parse error instead.
            var problems = parseError is null ? string.Join(" | ", errors) : (parseError.InnerException ?? parseError).Message;
            RejectedEdit = problems;
            LogReloadRejected(_logger, _file.Path, problems);
            return;
        }

        Current = options;
        RejectedEdit = null;
        WarnAboutPassthrough(options);
        var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        LogReloaded(_logger, _file.Path, options.Servers.Count);
        previous.Cancel();
        previous.Dispose();
    }

    private void WarnAboutPassthrough(RoutesOptions options)
    {
        foreach (var (name, server) in options.Servers)
        {
            if (server.UpstreamAuth.Strategy == UpstreamAuthStrategies.Passthrough)
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Ignored an invalid edit of {Path}; the last good routes stay in force. Problems: {Problems}")]
    private static partial void LogReloadRejected(ILogger logger, string path, string problems);
}
