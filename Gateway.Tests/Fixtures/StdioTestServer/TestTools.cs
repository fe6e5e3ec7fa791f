using System.ComponentModel;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Tests.StdioTestServer;

[McpServerToolType]
public sealed class TestTools
{
    public const string PushedNotification = "notifications/test/pushed";

    [McpServerTool(Name = "echo"), Description("Returns its input.")]
    public static string Echo(string message) => message;

    [McpServerTool(Name = "pid"), Description("The id of this process.")]
    public static int Pid() => Environment.ProcessId;

    [McpServerTool(Name = "env"), Description("The value of an environment variable, or (unset).")]
    public static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? "(unset)";

    [McpServerTool(Name = "stderr"), Description("Writes a line to stderr.")]
    public static string Stderr(string line)
    {
        Console.Error.WriteLine(line);
        return "written";
    }

    [McpServerTool(Name = "crash"), Description("Exits the process in the middle of the call.")]
    public static string Crash()
    {
        Environment.Exit(3);
        return "unreachable";
    }

    [McpServerTool(Name = "huge"), Description("Returns a text of the given length.")]
    public static string Huge(int length) => new('h', length);

    [McpServerTool(Name = "progress"), Description("Reports progress in steps with pauses.")]
    public static async Task<string> Progress(IProgress<ProgressNotificationValue> progress, int steps, int delayMs, CancellationToken cancellationToken)
    {
        for (var step = 1; step <= steps; step++)
        {
            progress.Report(new ProgressNotificationValue { Progress = step, Total = steps, Message = $"step {step}" });
            await Task.Delay(delayMs, cancellationToken);
        }

        return "done";
    }

    [McpServerTool(Name = "sample"), Description("Asks the client's model to complete a prompt.")]
    public static async Task<string> Sample(McpServer server, string prompt, CancellationToken cancellationToken)
    {
#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28, and still spoken by the sessions this server serves.
        var result = await server.SampleAsync(new CreateMessageRequestParams
        {
            MaxTokens = 50,
            Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
        }, cancellationToken);
#pragma warning restore MCP9005
        return "model said: " + string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));
    }

    [McpServerTool(Name = "notify_later"), Description("Sends a notification outside any request.")]
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
