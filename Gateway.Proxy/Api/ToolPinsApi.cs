using System.Security.Claims;
using Gateway.Transforms.Configuration;
using Gateway.Transforms.InboundAuth;
using Gateway.Transforms.Pinning;

namespace Gateway.Proxy.Api;

/// <summary>
/// <c>/api/v1/services/{name}/tools</c>: each tool's pin and state, and an admin's approval of a definition that
/// waits for it, or removal of a pin.
/// </summary>
internal static class ToolPinsApi
{
    public static IEndpointRouteBuilder MapToolPinsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/services/{name}/tools").RequireGatewayAdmin();
        group.MapGet("/", async (string name, RoutesConfigStore routes, ToolPins pins, CancellationToken cancellationToken) =>
        {
            if (!routes.Current.Servers.TryGetValue(name, out var server))
            {
                return UnknownService(name);
            }

            var current = await pins.CurrentAsync(name, cancellationToken).ConfigureAwait(false);
            return Results.Json(Describe(name, server.ToolPinning, current), GatewayJsonContext.Default.ServiceTools);
        });

        group.MapPost("/{tool}/approve", (string name, string tool, RoutesConfigStore routes, ToolPins pins, ClaimsPrincipal user, CancellationToken cancellationToken) =>
            ChangeAsync(name, tool, routes, async (server, ct) =>
            {
                var update = await pins.ApproveAsync(name, tool, McpCaller.SubjectOf(user)?.Value, ct).ConfigureAwait(false);
                return update.Pin is { } pin
                    ? Results.Json(DescribeTool(tool, pin, server.ToolPinning), GatewayJsonContext.Default.ToolPinInfo)
                    : UnknownTool(name, tool);
            }, cancellationToken));

        group.MapDelete("/{tool}/pin", (string name, string tool, RoutesConfigStore routes, ToolPins pins, ClaimsPrincipal user, CancellationToken cancellationToken) =>
            ChangeAsync(name, tool, routes, async (_, ct) =>
                (await pins.ForgetAsync(name, tool, McpCaller.SubjectOf(user)?.Value, ct).ConfigureAwait(false)).Known ? Results.NoContent() : UnknownTool(name, tool), cancellationToken));

        return endpoints;
    }

    /// <summary>A change of a pin, unless the server is unknown or routes.yaml pins the tool (where it is changed, then).</summary>
    private static async Task<IResult> ChangeAsync(
        string name, string tool, RoutesConfigStore routes, Func<McpServerOptions, CancellationToken, Task<IResult>> change, CancellationToken cancellationToken)
    {
        if (!routes.Current.Servers.TryGetValue(name, out var server))
        {
            return UnknownService(name);
        }

        if (server.ToolPinning.Pins.ContainsKey(tool))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Pinned in routes.yaml",
                detail: $"routes.yaml pins '{tool}' at servers.{name}.toolPinning.pins.{tool}: change the pin there (GET this server's tools shows the pending one).");
        }

        return await change(server, cancellationToken).ConfigureAwait(false);
    }

    private static ServiceTools Describe(string name, ToolPinningOptions options, ServerToolPins pins)
    {
        var tools = pins.Tools.Select(t => DescribeTool(t.Key, t.Value, options)).ToList();

        // Pins given ahead for tools not seen yet.
        tools.AddRange(options.Pins.Where(p => !pins.Tools.ContainsKey(p.Key))
            .Select(p => new ToolPinInfo(p.Key, "pinned", p.Value, "routes.yaml", null, null, null, null)));
        return new ServiceTools(name, Gateway.Configuration.ConfigurationReader.NameOf(options.Mode), pins.Baseline, [.. tools.OrderBy(t => t.Name, StringComparer.Ordinal)]);
    }

    private static ToolPinInfo DescribeTool(string name, ToolPin pin, ToolPinningOptions options)
    {
        var state = pin.Pending switch
        {
            { Kind: ToolChangeKind.Added } => "new",
            not null => "quarantined",
            null when pin.Removed => "removed",
            _ => "pinned",
        };
        var configured = options.Pins.GetValueOrDefault(name);
        var pending = pin.Pending is { } p
            ? new PendingToolInfo(p.Pin, p.Kind.NameOf(), p.SeenAt, ToolDefinition.DescriptionOf(ToolDefinition.Parse(pin.Definition)),
                ToolDefinition.DescriptionOf(ToolDefinition.Parse(p.Definition)), p.ChangedPaths, p.HiddenCharacters)
            : null;
        return new ToolPinInfo(name, state, configured ?? pin.Pin, configured is null ? pin.Pin is null ? null : "learned" : "routes.yaml",
            pin.FirstSeen, pin.PinnedAt, pin.Pending?.SeenAt, pending);
    }

    private static IResult UnknownService(string name) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown service", detail: $"No server named '{name}' is configured.");

    private static IResult UnknownTool(string name, string tool) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown tool", detail: $"The gateway has seen no tool '{tool}' of '{name}'.");
}
