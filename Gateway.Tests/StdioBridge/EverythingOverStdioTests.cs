using Gateway.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.StdioBridge;

/// <summary>The npm reference server, run over stdio by the bridge, used through the gateway with the C# SDK client.</summary>
public sealed class EverythingOverStdioTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("everything", StdioCommand.Everything, "warmPool: 1").ToString());

    public ValueTask DisposeAsync() => _gateway.DisposeAsync();

    [Fact]
    public async Task Tools_Resources_AndPrompts_Work()
    {
        await using var client = await _gateway.ConnectAsync("everything");
        Assert.Equal("mcp-servers/everything", client.ServerInfo?.Name);

        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        Assert.Contains(tools, t => t.Name == "echo");
        var echoed = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "over stdio" }, cancellationToken: Ct);
        Assert.Contains("over stdio", Assert.IsType<TextContentBlock>(Assert.Single(echoed.Content)).Text, StringComparison.Ordinal);

        var resources = await client.ListResourcesAsync(cancellationToken: Ct);
        Assert.NotEmpty(resources);
        var read = await client.ReadResourceAsync(resources[0].Uri, cancellationToken: Ct);
        Assert.NotEmpty(read.Contents);

        var prompts = await client.ListPromptsAsync(cancellationToken: Ct);
        Assert.NotEmpty(prompts);
        var simple = prompts.First(p => p.ProtocolPrompt.Arguments is null or { Count: 0 });
        var prompt = await client.GetPromptAsync(simple.Name, cancellationToken: Ct);
        Assert.NotEmpty(prompt.Messages);
    }

    [Fact]
    public async Task LongRunningTool_StreamsProgress_BeforeItsResult()
    {
        await using var client = await _gateway.ConnectAsync("everything");
        var progress = new System.Collections.Concurrent.ConcurrentQueue<(DateTime At, float Value)>();
        var result = await client.CallToolAsync(
            "trigger-long-running-operation",
            new Dictionary<string, object?> { ["duration"] = 1.5, ["steps"] = 3 },
            new CallbackProgress(p => progress.Enqueue((DateTime.UtcNow, p.Progress))),
            cancellationToken: Ct);
        var finished = DateTime.UtcNow;

        Assert.Contains("completed", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text, StringComparison.Ordinal);

        // The SDK client dispatches notifications on its own schedule and stops listening for a call's progress when
        // its result arrives, so the last step (sent just before the result) can be missed on a busy machine.
        Assert.True(progress.Count >= 2, $"Only {progress.Count} progress notifications arrived.");
        Assert.Equal(Enumerable.Range(1, progress.Count).Select(step => (float)step), progress.Select(p => p.Value));
        Assert.True(finished - progress.First().At > TimeSpan.FromMilliseconds(500), "The first progress arrived only with the result: the stream was buffered.");
    }

#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28; sessions of earlier revisions still use it.
    [Fact]
    public async Task SamplingRequest_RoundTripsThroughTheClient()
    {
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
                {
                    Model = "test-model",
                    Content = [new TextContentBlock { Text = "sampled: " + string.Concat(request!.Messages.SelectMany(m => m.Content).OfType<TextContentBlock>().Select(c => c.Text)) }],
                }),
            },
        };
        await using var client = await _gateway.ConnectAsync("everything", options: options);

        var result = await client.CallToolAsync("trigger-sampling-request", new Dictionary<string, object?> { ["prompt"] = "say hi" }, cancellationToken: Ct);

        var text = string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));
        // The server's request reached the client's handler, and the handler's answer reached the server.
        Assert.Contains("\"model\": \"test-model\"", text, StringComparison.Ordinal);
        Assert.Contains("sampled: Resource trigger-sampling-request context: say hi", text, StringComparison.Ordinal);
    }
#pragma warning restore MCP9005

    [Fact]
    public async Task ResourceSubscription_UpdatesArriveOnTheGetStream()
    {
        await using var client = await _gateway.ConnectAsync("everything");
        var resources = await client.ListResourcesAsync(cancellationToken: Ct);
        var uri = resources[0].Uri;
        var updated = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = client.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (notification, _) =>
        {
            updated.TrySetResult(notification.Params?["uri"]?.GetValue<string>());
            return ValueTask.CompletedTask;
        });

        await client.SubscribeToResourceAsync(uri, cancellationToken: Ct);
        await client.CallToolAsync("toggle-subscriber-updates", cancellationToken: Ct);

        Assert.Equal(uri, await updated.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct));
    }

}
