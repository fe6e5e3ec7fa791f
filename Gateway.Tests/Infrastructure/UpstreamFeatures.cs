using System.ComponentModel;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Tests.Infrastructure;

[McpServerToolType]
public sealed class UpstreamTools(UpstreamIdentity identity)
{
    [McpServerTool(Name = "echo"), Description("Returns its input.")]
    public static string Echo(string message) => message;

    [McpServerTool(Name = "whoami"), Description("Names the upstream instance that ran the call.")]
    public string WhoAmI() => identity.Name;

    [McpServerTool(Name = "progress"), Description("Reports progress, then waits for the test to release it.")]
    public static async Task<string> Progress(IProgress<ProgressNotificationValue> progress, ProgressGate gate, CancellationToken cancellationToken)
    {
        progress.Report(new ProgressNotificationValue { Progress = 1, Total = 2, Message = "first" });
        await gate.Released.WaitAsync(cancellationToken);
        progress.Report(new ProgressNotificationValue { Progress = 2, Total = 2, Message = "second" });
        return "done";
    }

    [McpServerTool(Name = "held"), Description("Says nothing until the test releases it, then answers.")]
    public static async Task<string> Held(ProgressGate gate, CancellationToken cancellationToken)
    {
        await gate.Released.WaitAsync(cancellationToken);
        return "released";
    }

    [McpServerTool(Name = "ask"), Description("Asks the client for a name (elicitation), then greets it.")]
    public static async Task<string> Ask(McpServer server, CancellationToken cancellationToken)
    {
        var answer = await server.ElicitAsync(
            new ElicitRequestParams
            {
                Message = "Your name?",
                RequestedSchema = new ElicitRequestParams.RequestSchema
                {
                    Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { ["name"] = new ElicitRequestParams.StringSchema() },
                },
            },
            cancellationToken);
        return answer.Action == "accept" && answer.Content?.TryGetValue("name", out var name) == true ? $"Hello, {name.GetString()}!" : answer.Action;
    }

#pragma warning disable MCP9005 // sampling and roots are deprecated in 2026-07-28; 2025 clients still offer them
    [McpServerTool(Name = "summarize"), Description("Asks the client's model (sampling) for a summary of the text.")]
    public static async Task<string> Summarize(McpServer server, string text, CancellationToken cancellationToken)
    {
        var answer = await server.SampleAsync(
            new CreateMessageRequestParams
            {
                Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = "Summarize: " + text }] }],
                MaxTokens = 50,
            },
            cancellationToken);
        return answer.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text ?? string.Empty;
    }

    [McpServerTool(Name = "roots"), Description("Lists the client's roots.")]
    public static async Task<string> Roots(McpServer server, CancellationToken cancellationToken) =>
        string.Join(", ", (await server.RequestRootsAsync(new ListRootsRequestParams(), cancellationToken)).Roots.Select(r => r.Uri));
#pragma warning restore MCP9005

    public const string PushedNotification = "notifications/test/pushed";

    [McpServerTool(Name = "notify_later"), Description("Sends a notification outside any request, so on the standalone GET stream.")]
    public static string NotifyLater(McpServer server, string text)
    {
        _ = Task.Run(async () =>
        {
            await Task.Delay(200);
            await server.SendNotificationAsync(PushedNotification, new JsonObject { ["text"] = text });
        });
        return "scheduled";
    }
}

[McpServerResourceType]
public sealed class UpstreamResources
{
    [McpServerResource(UriTemplate = "test://readme", Name = "readme", MimeType = "text/plain"), Description("A fixed text.")]
    public static string Readme() => "read me";
}

[McpServerPromptType]
public sealed class UpstreamPrompts
{
    [McpServerPrompt(Name = "greet"), Description("Greets someone.")]
    public static string Greet(string name) => $"Hello, {name}!";
}
