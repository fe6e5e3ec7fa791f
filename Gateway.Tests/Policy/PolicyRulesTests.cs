using Gateway.Tests.Infrastructure;
using Gateway.Tests.Infrastructure.Identity;
using ModelContextProtocol;

namespace Gateway.Tests.Policy;

/// <summary>
/// A server's <c>policy</c> rules, by caller: tokens of the test IdP with different roles see and may call different
/// tools; the first rule that matches caller and target decides, <c>policyDefault</c> when none does.
/// </summary>
public sealed class PolicyRulesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EachCaller_SeesAndCallsWhatTheFirstMatchingRuleAllows()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var upstream = await TestUpstream.StartAsync("a");
        await using var gateway = await TestGateway.StartAsync(new RoutesYaml()
            .Server("demo", upstream, RoutesYaml.NoProbes,
                "policy:",
                "  - { name: admins, roles: [mcp-admin], tools: ['*'], prompts: ['*'] }",
                "  - { name: no-whoami, tools: ['whoami', 'held'], action: deny }",
                "  - { tools: ['*'] }",
                "policyDefault: deny")
            .Gateway(idp.GatewayAuth()).ToString());
        var audience = gateway.McpEndpoint("demo").ToString();
        var admin = idp.Forge("alice", audience, d => d.Claims["roles"] = new List<string> { "mcp-user", "mcp-admin" });
        var user = idp.Forge("bob", audience, d => d.Claims["roles"] = new List<string> { "mcp-user" });

        await using (var alice = await gateway.ConnectAsync("demo", accessToken: admin))
        {
            Assert.Contains("whoami", (await alice.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name));
            Assert.NotEmpty(await alice.ListPromptsAsync(cancellationToken: Ct));
            await alice.CallToolAsync("whoami", cancellationToken: Ct);
        }

        await using var bob = await gateway.ConnectAsync("demo", accessToken: user);
        var tools = (await bob.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.Contains("echo", tools);
        Assert.DoesNotContain("whoami", tools);
        Assert.DoesNotContain("held", tools);

        // No rule names prompts for bob: policyDefault denies them.
        Assert.Empty(await bob.ListPromptsAsync(cancellationToken: Ct));
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => bob.CallToolAsync("whoami", cancellationToken: Ct).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        await Eventually.TrueAsync(() => Task.FromResult(gateway.Logs.Entries.Any(e =>
            e.Category == "Gateway.Audit" && Equals(e.Fields.GetValueOrDefault("Rule"), "policy 'no-whoami'") && Equals(e.Fields["Subject"], "bob"))));
    }
}
