using Gateway.Transforms.Telemetry;

namespace Gateway.Proxy.Hosting;

/// <summary><c>Gateway.Proxy audit verify &lt;file&gt;</c>: checks the audit chain of a JSON-lines log (<c>LOG_FORMAT=json</c>).</summary>
internal static class AuditVerifyCommand
{
    /// <summary>Whether <paramref name="args"/> ask for this command.</summary>
    public static bool IsRequested(string[] args) => args is ["audit", "verify", ..];

    /// <returns>0 when every chain is whole, 1 when one is broken, 2 when the file cannot be read.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (args is not ["audit", "verify", var path])
        {
            await output.WriteLineAsync("Usage: Gateway.Proxy audit verify <audit log, one JSON object a line>").ConfigureAwait(false);
            return 2;
        }

        AuditVerdict verdict;
        try
        {
            using var log = File.OpenText(path);
            verdict = AuditChainVerifier.Verify(log);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await output.WriteLineAsync($"{path}: {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        await output.WriteLineAsync(verdict.Message).ConfigureAwait(false);
        return verdict.IsWhole ? 0 : 1;
    }
}
