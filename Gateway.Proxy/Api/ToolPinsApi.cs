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
            if (ServerNamed(routes, name) is not var (server, options))
            {
                return UnknownService(name);
            }

            var current = await pins.CurrentAsync(server, cancellationToken).ConfigureAwait(false);
            return Results.Json(Describe(server, options.ToolPinning, current), GatewayJsonContext.Default.ServiceTools);
        });

        // ?pin= names the definition the admin looked at: if another took its place since, nothing is approved.
        group.MapPost("/{tool}/approve", (string name, string tool, string? pin, RoutesConfigStore routes, ToolPins pins, ClaimsPrincipal user, CancellationToken cancellationToken) =>
            ChangeAsync(routes, name, tool, pin, server => pins.ApproveAsync(server, tool, pin, McpCaller.SubjectOf(user)?.Value, cancellationToken)));

        group.MapDelete("/{tool}/pin", (string name, string tool, RoutesConfigStore routes, ToolPins pins, ClaimsPrincipal user, CancellationToken cancellationToken) =>
            ChangeAsync(routes, name, tool, null, server => pins.ForgetAsync(server, tool, McpCaller.SubjectOf(user)?.Value, cancellationToken)));

        return endpoints;
    }

    /// <summary>The server as routes.yaml names it (names are matched ignoring case, as the MCP routes are).</summary>
    private static (string Name, McpServerOptions Options)? ServerNamed(RoutesConfigStore routes, string name) =>
        routes.Current.Servers.FirstOrDefault(s => string.Equals(s.Key, name, StringComparison.OrdinalIgnoreCase)) is { Key: not null } server
            ? (server.Key, server.Value)
            : null;

    /// <summary>A change of a pin, unless the server is unknown or routes.yaml pins the tool (where it is changed, then).</summary>
    private static async Task<IResult> ChangeAsync(RoutesConfigStore routes, string name, string tool, string? pin, Func<string, ValueTask<ToolPinUpdate>> change)
    {
        if (ServerNamed(routes, name) is not var (server, options))
        {
            return UnknownService(name);
        }

        if (options.ToolPinning.Pins.ContainsKey(tool))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Pinned in routes.yaml",
                detail: $"routes.yaml pins '{tool}' at servers.{server}.toolPinning.pins.{tool}: change the pin there (GET this server's tools shows the pending one).");
        }

        return AnswerOf(await change(server).ConfigureAwait(false), server, tool, options.ToolPinning, pin);
    }

    private static IResult AnswerOf(ToolPinUpdate update, string name, string tool, ToolPinningOptions options, string? pin) => update.Outcome switch
    {
        ToolPinUpdateOutcome.Unknown => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown tool", detail: $"The gateway has seen no tool '{tool}' of '{name}'."),
        ToolPinUpdateOutcome.NothingPending => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to approve",
            detail: $"No definition of '{tool}' waits for approval: it is {StateOf(update.Before!)}."),
        ToolPinUpdateOutcome.PinMismatch => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Another definition waits",
            detail: $"The definition of '{tool}' waiting for approval is {update.Before!.Pending!.Pin}, not {pin}: look at it (GET this server's tools) before approving it."),
        ToolPinUpdateOutcome.NotSaved => Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Pins not saved",
            detail: "The pin store (Redis or the pins file) cannot be written now; nothing was changed. Try again."),
        _ when update.After is { } after => Results.Json(DescribeTool(tool, after, options), GatewayJsonContext.Default.ToolPinInfo),
        _ => Results.NoContent(),
    };

    private static ServiceTools Describe(string name, ToolPinningOptions options, ServerToolPins pins)
    {
        var tools = pins.Tools.Select(t => DescribeTool(t.Key, t.Value, options)).ToList();

        // Pins given ahead for tools not seen yet.
        tools.AddRange(options.Pins.Where(p => !pins.Tools.ContainsKey(p.Key))
            .Select(p => new ToolPinInfo(p.Key, "pinned", p.Value, "routes.yaml", null, null, null, null)));
        return new ServiceTools(name, Gateway.Configuration.ConfigurationReader.NameOf(options.Mode), pins.Baseline, [.. tools.OrderBy(t => t.Name, StringComparer.Ordinal)]);
    }

    private static string StateOf(ToolPin pin) => pin.Pending switch
    {
        { Kind: ToolChangeKind.Added } => "new",
        not null => "quarantined",
        null when pin.Removed => "removed",
        _ => "pinned",
    };

    private static ToolPinInfo DescribeTool(string name, ToolPin pin, ToolPinningOptions options)
    {
        var configured = options.Pins.GetValueOrDefault(name);
        var pending = pin.Pending is { } p
            ? new PendingToolInfo(p.Pin, p.Kind.NameOf(), p.SeenAt, ToolDefinition.DescriptionOf(ToolDefinition.Parse(pin.Definition)),
                ToolDefinition.DescriptionOf(ToolDefinition.Parse(p.Definition)), p.ChangedPaths, p.HiddenCharacters)
            : null;
        return new ToolPinInfo(name, StateOf(pin), configured ?? pin.Pin, configured is null ? pin.Pin is null ? null : "learned" : "routes.yaml",
            pin.FirstSeen, pin.PinnedAt, pin.Pending?.SeenAt, pending);
    }

    private static IResult UnknownService(string name) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown service", detail: $"No server named '{name}' is configured.");
}
