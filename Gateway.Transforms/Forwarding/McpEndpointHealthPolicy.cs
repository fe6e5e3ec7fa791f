using System.Globalization;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Judges YARP's active probe (a plain GET of the MCP endpoint): any HTTP answer below 500 means the server is up,
/// since an MCP endpoint rightly answers a GET without a session with 400 or 405. A failed probe is logged here in
/// one line with its reason; YARP's own log of it, with a stack trace per probe, is filtered out
/// (<see cref="ProbeLogCategory"/>).
/// </summary>
internal sealed partial class McpEndpointHealthPolicy(IDestinationHealthUpdater healthUpdater, ILogger<McpEndpointHealthPolicy> logger) : IActiveHealthCheckPolicy
{
    public const string PolicyName = "McpEndpoint";

    /// <summary>The category of YARP's probe log, which writes every failed probe with its exception.</summary>
    public const string ProbeLogCategory = "Yarp.ReverseProxy.Health.ActiveHealthCheckMonitor";

    public string Name => PolicyName;

    public void ProbingCompleted(ClusterState cluster, IReadOnlyList<DestinationProbingResult> probingResults)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(probingResults);
        var results = new NewActiveDestinationHealth[probingResults.Count];
        for (var i = 0; i < probingResults.Count; i++)
        {
            var (destination, response, exception) = (probingResults[i].Destination, probingResults[i].Response, probingResults[i].Exception);
            var healthy = response is not null && (int)response.StatusCode < 500;
            if (!healthy)
            {
                var reason = (response, exception) switch
                {
                    ({ } failed, _) => "HTTP " + ((int)failed.StatusCode).ToString(CultureInfo.InvariantCulture),
                    (_, OperationCanceledException) => "no answer within the probe's timeout",
                    (_, { } error) => error.GetBaseException().Message,
                    _ => "no answer",
                };
                LogProbeFailed(logger, cluster.ClusterId, destination.Model.Config.Address, reason);
            }

            results[i] = new NewActiveDestinationHealth(destination, healthy ? DestinationHealth.Healthy : DestinationHealth.Unhealthy);
        }

        healthUpdater.SetActive(cluster, results);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Health probe of server {Server} at {Destination} failed: {Reason}")]
    private static partial void LogProbeFailed(ILogger logger, string server, string destination, string reason);
}
