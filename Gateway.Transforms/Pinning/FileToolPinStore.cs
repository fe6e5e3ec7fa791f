using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.Pinning;

/// <summary>
/// The pins of a gateway without Redis, in one JSON file rewritten whole (through a temporary file, so that a crash
/// leaves the old or the new, never half) on every change. For one process: replicas share pins through Redis.
/// </summary>
internal sealed partial class FileToolPinStore(string path, ILogger logger) : IToolPinStore, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, ServerToolPins>? _servers;
    private long _version;

    // One process writes the file: nothing changes it elsewhere.
    public event Action<string?>? ChangedElsewhere
    {
        add { }
        remove { }
    }

    public async ValueTask<StoredToolPins?> LoadAsync(string server, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var servers = await ServersAsync(cancellationToken).ConfigureAwait(false);
            return new StoredToolPins(servers.GetValueOrDefault(server) ?? ServerToolPins.Empty, _version);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<ToolPinSave> SaveAsync(string server, ServerToolPins pins, long version, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var servers = await ServersAsync(cancellationToken).ConfigureAwait(false);
            if (version != _version)
            {
                return ToolPinSave.Conflict;
            }

            servers[server] = pins;
            var temporary = path + ".tmp";
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            var file = File.Create(temporary);
            await using (file.ConfigureAwait(false))
            {
                await JsonSerializer.SerializeAsync(file, servers, ToolPinsJsonContext.Default.DictionaryStringServerToolPins, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temporary, path, overwrite: true);
            return ToolPinSave.Saved(++_version);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogWriteFailed(logger, path, ex.Message);
            return ToolPinSave.Unavailable;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async ValueTask<Dictionary<string, ServerToolPins>> ServersAsync(CancellationToken cancellationToken)
    {
        if (_servers is not null)
        {
            return _servers;
        }

        try
        {
            var file = File.OpenRead(path);
            await using var closing = file.ConfigureAwait(false);
            _servers = await JsonSerializer.DeserializeAsync(file, ToolPinsJsonContext.Default.DictionaryStringServerToolPins, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // The next save replaces the file: what it held is kept beside it for a person to look at.
            LogReadFailed(logger, path, ex.Message);
            TryKeep(path);
        }

        return _servers ??= new Dictionary<string, ServerToolPins>(StringComparer.Ordinal);
    }

    private static void TryKeep(string path)
    {
        try
        {
            File.Copy(path, path + ".unreadable", overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Unreadable and not copyable: nothing more to save.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Tool pins: cannot write {Path} ({Detail}); the pins of this run are kept in memory only.")]
    private static partial void LogWriteFailed(ILogger logger, string path, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tool pins: cannot read {Path} ({Detail}); starting without its pins (kept as {Path}.unreadable), so tools are trusted on first use again.")]
    private static partial void LogReadFailed(ILogger logger, string path, string detail);
}
