using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;

namespace Gateway.Tests.Infrastructure.Identity;

/// <summary>
/// Keycloak in a container (Testcontainers), with the realm export of <c>deploy/keycloak</c> imported. Where Docker is
/// not available, <see cref="UnavailableReason"/> says so and the tests that need it are skipped with that reason.
/// </summary>
public sealed class KeycloakServer : IAsyncLifetime
{
    public const string Image = "quay.io/keycloak/keycloak:26.4";

    /// <summary>The gateway's client secret in the realm export; a real deployment overrides it.</summary>
    public const string GatewayClientSecret = "change-me-gateway-secret";

    private const int HttpPort = 8080;
    private IContainer? _container;

    /// <summary>Why Keycloak could not be started here, or null when it runs.</summary>
    public string? UnavailableReason { get; private set; }

    public Uri Issuer => new($"http://127.0.0.1:{_container!.GetMappedPublicPort(HttpPort)}/realms/mcp");

    public Uri TokenEndpoint => new(Issuer + "/protocol/openid-connect/token");

    public async ValueTask InitializeAsync()
    {
        try
        {
            _container = new ContainerBuilder(Image)
                .WithCommand("start-dev", "--import-realm")
                .WithResourceMapping(new FileInfo(Path.Combine(AppContext.BaseDirectory, "Keycloak", "mcp-realm.json")), "/opt/keycloak/data/import/")
                .WithPortBinding(HttpPort, assignRandomHostPort: true)
                .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(HttpPort).ForPath("/realms/mcp/.well-known/openid-configuration")))
                .Build();
            await _container.StartAsync(TestContext.Current.CancellationToken);
        }
        catch (DockerUnavailableException ex)
        {
            UnavailableReason = $"Keycloak tests need Docker, which is not available on this machine ({ex.Message.Split('\n')[0]}). The same flows run against the in-process OpenIddict IdP.";

            // Skip reasons only show at detailed verbosity; say it where every run's log shows it.
            TestContext.Current.SendDiagnosticMessage("KeycloakTests skipped: " + UnavailableReason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}
