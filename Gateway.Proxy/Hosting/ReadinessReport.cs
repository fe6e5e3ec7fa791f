using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Proxy.Hosting;

/// <summary>
/// The body of <c>/health/ready</c>: the status on the first line (what probes and scripts read), then, when not
/// healthy, one line per check that is not, saying why.
/// </summary>
internal static class ReadinessReport
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var text = new StringBuilder(report.Status.ToString());
        foreach (var (name, entry) in report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy))
        {
            text.Append('\n').Append(name).Append(": ").Append(entry.Status).Append(" - ").Append(entry.Description ?? entry.Exception?.Message);
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text.ToString());
    }
}
