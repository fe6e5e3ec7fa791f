using Gateway.Proxy.Hosting;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class GatewayHostSettingsTests
{
    private static GatewayHostSettings From(params (string Key, string Value)[] values) =>
        GatewayHostSettings.From(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build(), "/srv");

    [Fact]
    public void Defaults_AreTheBundledRoutesOnLoopback8080()
    {
        var settings = From();
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "routes.yaml"), settings.RoutesPath);
        Assert.Equal("http://127.0.0.1:8080", settings.Urls);
    }

    [Fact]
    public void RoutesInTheCurrentDirectory_AreTheDefault_SoThatEditsOfTheRepositorysFileApply()
    {
        var directory = Infrastructure.TempDirectory.Create();
        File.WriteAllText(Path.Combine(directory, "routes.yaml"), "servers: {}");
        var settings = GatewayHostSettings.From(new ConfigurationBuilder().Build(), directory);
        Assert.Equal(Path.Combine(directory, "routes.yaml"), settings.RoutesPath);
    }

    [Fact]
    public void BridgeGatewaysHostAndPortVariables_Work() =>
        Assert.Equal("http://0.0.0.0:9000", From(("HOST", "0.0.0.0"), ("PORT", "9000")).Urls);

    [Theory]
    [InlineData("routes")]
    [InlineData("GATEWAY_ROUTES_FILE")]
    [InlineData("SERVICE_REGISTRY_FILE")]
    public void RoutesPath_ComesFromArgumentOrEnvironment_RelativeToTheCurrentDirectory(string key) =>
        Assert.Equal("/srv/conf/routes.yaml", From((key, "conf/routes.yaml")).RoutesPath);

    [Fact]
    public void CommandLine_WinsOverEnvironment() =>
        Assert.Equal("/a.yaml", From(("routes", "/a.yaml"), ("GATEWAY_ROUTES_FILE", "/b.yaml")).RoutesPath);

    [Fact]
    public void HostAndPortArguments_MakeTheListenUrl() =>
        Assert.Equal("http://0.0.0.0:9000", From(("host", "0.0.0.0"), ("port", "9000")).Urls);

    [Fact]
    public void HostAndPortVariables_MakeTheListenUrl_BracketingIPv6() =>
        Assert.Equal("http://[::]:80", From(("GATEWAY_HOST", "::"), ("GATEWAY_PORT", "80")).Urls);

    [Fact]
    public void HostAlone_KeepsTheDefaultPort() =>
        Assert.Equal("http://localhost:8080", From(("GATEWAY_HOST", "localhost")).Urls);

    [Fact]
    public void AspNetCoreUrls_ApplyWhenNeitherHostNorPortIsGiven() =>
        Assert.Null(From(("urls", "http://+:5000")).Urls);
}
