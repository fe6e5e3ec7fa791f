using Gateway.Mcp;

namespace Gateway.Tests.Mcp;

public sealed class McpHeaderValueTests
{
    [Theory]
    [InlineData("get_weather", "get_weather")]
    [InlineData("=?base64?SGVsbG8sIOS4lueVjA==?=", "Hello, 世界")]
    [InlineData("=?base64?IHBhZGRlZCA=?=", " padded ")]
    [InlineData("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=", "=?base64?literal?=")]
    public void Decode_ReturnsTheCarriedValue(string header, string expected) => Assert.Equal(expected, McpHeaderValue.Decode(header));

    [Theory]
    [InlineData("=?base64?not base64?=")]
    [InlineData("=?base64?/w==?=")]
    public void Decode_MalformedSentinel_IsNull(string header) => Assert.Null(McpHeaderValue.Decode(header));
}
