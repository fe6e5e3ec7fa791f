using System.Net;
using Gateway.Transforms.Pipeline;

namespace Gateway.Tests.Limits;

/// <summary>Which address an anonymous caller is counted by: an IPv4 address whole, an IPv6 one by its /64.</summary>
public sealed class CallerKeyTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("::ffff:203.0.113.7", "::ffff:203.0.113.7")]
    public void AnonymousCaller_IsCountedByItsNetwork(string address, string network) =>
        Assert.Equal(network, McpRequestContext.ClientNetwork(IPAddress.Parse(address)));
}
