using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Transforms.Forwarding;

/// <summary>
/// Judges YARP's active probe (a plain GET of the MCP endpoint): any HTTP answer below 500 means the server is up,
/// since an MCP endpoint rightly answers a GET without a session with 400 or 405.
/// </summary>
internal sealed class McpEndpointHealthPolicy(IDestinationHealthUpdater healthUpdater) : IActiveHealthCheckPolicy
{
    public const string PolicyName = "McpEndpoint";

    public string Name => PolicyName;

    public void ProbingCompleted(ClusterState cluster, IReadOnlyList<DestinationProbingResult> probingResults)
    {
        var results = new NewActiveDestinationHealth[probingResults.Count];
        for (var i = 0; i < probingResults.Count; i++)
        {
            var response = probingResults[i].Response;
            var healthy = response is not null && (int)response.StatusCode < 500;
            results[i] = new NewActiveDestinationHealth(probingResults[i].Destination, healthy ? DestinationHealth.Healthy : DestinationHealth.Unhealthy);
        }

        healthUpdater.SetActive(cluster, results);
    }
}
