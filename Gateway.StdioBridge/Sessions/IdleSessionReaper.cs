namespace Gateway.StdioBridge.Sessions;

/// <summary>Ends idle sessions, including those whose client vanished without a DELETE.</summary>
internal sealed class IdleSessionReaper(StdioSessionRegistry sessions, TimeProvider timeProvider) : BackgroundService
{
    /// <summary>How often sessions are checked; idle timeouts are honoured to within this.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await sessions.ReapIdleAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
