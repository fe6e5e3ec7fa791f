using ModelContextProtocol;

namespace Gateway.Tests.Infrastructure;

/// <summary>Progress reported straight to a callback, on the thread that reports it (unlike <see cref="Progress{T}"/>).</summary>
public sealed class CallbackProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
{
    public void Report(ProgressNotificationValue value) => report(value);
}
