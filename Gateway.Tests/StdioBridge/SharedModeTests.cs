using Gateway.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.StdioBridge;

/// <summary><c>mode: shared</c>: one process for every session, with the sessions' ids and progress kept apart.</summary>
public sealed class SharedModeTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _gateway = await TestGateway.StartAsync(new RoutesYaml().StdioServer("shared", StdioCommand.TestServer, "mode: shared").ToString());

    public ValueTask DisposeAsync() => _gateway.DisposeAsync();

    [Fact]
    public async Task TwoClients_ShareOneProcess_AndEachGetsOnlyItsOwnAnswers()
    {
        await using var alice = await _gateway.ConnectAsync("shared");
        await using var bob = await _gateway.ConnectAsync("shared");
        Assert.Equal(await PidAsync(alice), await PidAsync(bob));

        // Both clients number their requests alike; the process must never mix them up.
        var calls = Enumerable.Range(0, 20).SelectMany(i => new[] { EchoAsync(alice, $"alice {i}"), EchoAsync(bob, $"bob {i}") }).ToList();
        var answers = await Task.WhenAll(calls);

        Assert.Equal(Enumerable.Range(0, 20).SelectMany(i => new[] { $"alice {i}", $"bob {i}" }), answers);
    }

    [Fact]
    public async Task Progress_ReachesOnlyTheClientThatAsked()
    {
        await using var alice = await _gateway.ConnectAsync("shared");
        await using var bob = await _gateway.ConnectAsync("shared");
        var aliceSteps = new System.Collections.Concurrent.ConcurrentQueue<string?>();
        var bobSteps = new System.Collections.Concurrent.ConcurrentQueue<string?>();

        await Task.WhenAll(
            alice.CallToolAsync("progress", new Dictionary<string, object?> { ["steps"] = 3, ["delayMs"] = 100 }, new CallbackProgress(p => aliceSteps.Enqueue(p.Message)), cancellationToken: Ct).AsTask(),
            bob.CallToolAsync("progress", new Dictionary<string, object?> { ["steps"] = 5, ["delayMs"] = 60 }, new CallbackProgress(p => bobSteps.Enqueue(p.Message)), cancellationToken: Ct).AsTask());

        Assert.InRange(aliceSteps.Count, 2, 3);
        Assert.InRange(bobSteps.Count, 4, 5);
        Assert.All(aliceSteps, step => Assert.Matches("^step [1-3]$", step));
    }

    [Fact]
    public async Task OneSessionEnding_LeavesTheProcessToTheOthers()
    {
        await using var bob = await _gateway.ConnectAsync("shared");
        var pid = await PidAsync(bob);
        var alice = await _gateway.ConnectAsync("shared");
        await alice.DisposeAsync();

        Assert.Equal(pid, await PidAsync(bob));
        Assert.Equal("still served", await EchoAsync(bob, "still served"));
    }

    private static async Task<string> PidAsync(McpClient client) =>
        Assert.IsType<TextContentBlock>(Assert.Single((await client.CallToolAsync("pid", cancellationToken: Ct)).Content)).Text;

    private static async Task<string> EchoAsync(McpClient client, string message)
    {
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: Ct);
        return Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
    }

}
