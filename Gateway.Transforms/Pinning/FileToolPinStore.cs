using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gateway.Transforms.Pinning;

/// <summary>
/// The pins of a gateway without Redis, in one JSON file rewritten whole (through a temporary file, flushed to disk,
/// so that a crash leaves the old or the new, never half) on every change. For one process: replicas share pins
/// through Redis, not through a file on a shared volume.
/// </summary>
internal sealed partial class FileToolPinStore(string path, ILogger logger) : IToolPinStore, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);
    private Dictionary<string, ServerToolPins>? _servers;

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
            return await ServersAsync(cancellationToken).ConfigureAwait(false) is { } servers
                ? new StoredToolPins(servers.GetValueOrDefault(server) ?? ServerToolPins.Empty, _versions.GetValueOrDefault(server))
                : null;
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
            if (await ServersAsync(cancellationToken).ConfigureAwait(false) is not { } servers)
            {
                return ToolPinSave.Unavailable;
            }

            if (version != _versions.GetValueOrDefault(server))
            {
                return ToolPinSave.Conflict;
            }

            var next = new Dictionary<string, ServerToolPins>(servers, StringComparer.Ordinal) { [server] = pins };
            var temporary = $"{path}.{Environment.ProcessId}.tmp";
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            var file = File.Create(temporary);
            await using (file.ConfigureAwait(false))
            {
                // Not cancelled halfway: a save either happens whole or is not made.
                await JsonSerializer.SerializeAsync(file, next, ToolPinsJsonContext.Default.DictionaryStringServerToolPins, CancellationToken.None).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            _servers = next;
            _versions[server] = version + 1;
            return ToolPinSave.Saved(version + 1);
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

    /// <summary>The file's pins, read once; null while it cannot be read (it is then neither trusted as empty nor written).</summary>
    private async ValueTask<Dictionary<string, ServerToolPins>?> ServersAsync(CancellationToken cancellationToken)
    {
        if (_servers is not null)
        {
            return _servers;
        }

        try
        {
            var file = File.OpenRead(path);
            await using var closing = file.ConfigureAwait(false);
            _servers = await JsonSerializer.DeserializeAsync(file, ToolPinsJsonContext.Default.DictionaryStringServerToolPins, cancellationToken).ConfigureAwait(false)
                ?? new Dictionary<string, ServerToolPins>(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            _servers = new Dictionary<string, ServerToolPins>(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // Taken as empty, it would trust every tool again and be overwritten: the pins in memory stay in force.
            LogReadFailed(logger, path, ex.Message);
        }

        return _servers;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Tool pins: cannot write {Path} ({Detail}); the pins of this run are kept in memory only.")]
    private static partial void LogWriteFailed(ILogger logger, string path, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tool pins: cannot read {Path} ({Detail}); it is not written, and the pins in memory stay in force, until it can be read. Fix or remove the file.")]
    private static partial void LogReadFailed(ILogger logger, string path, string detail);
}
