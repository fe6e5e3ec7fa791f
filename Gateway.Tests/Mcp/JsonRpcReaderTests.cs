using System.Text;
using Gateway.Mcp;

namespace Gateway.Tests.Mcp;

public sealed class JsonRpcReaderTests
{
    [Fact]
    public void TryRead_Request_TakesMethodIdAndName()
    {
        var body = """{"jsonrpc":"2.0","id":"abc","method":"tools/call","params":{"name":"echo","arguments":{"name":"inner","uri":"x"}}}""";
        Assert.Equal(JsonRpcReadError.None, JsonRpcReader.TryRead(Encoding.UTF8.GetBytes(body), out var message));
        Assert.Equal(JsonRpcMessageKind.Request, message!.Kind);
        Assert.Equal("tools/call", message.Method);
        Assert.Equal("\"abc\"", Encoding.UTF8.GetString(message.Id.Span));
        Assert.Equal("echo", message.Name);
        Assert.Null(message.Uri);
    }

    [Fact]
    public void TryRead_PropertiesInAnyOrder_ResourceUri()
    {
        var body = """{"params":{"uri":"file:///a.txt"},"method":"resources/read","id":7,"jsonrpc":"2.0"}""";
        Assert.Equal(JsonRpcReadError.None, JsonRpcReader.TryRead(Encoding.UTF8.GetBytes(body), out var message));
        Assert.Equal("file:///a.txt", message!.Uri);
        Assert.Equal("7", Encoding.UTF8.GetString(message.Id.Span));
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", JsonRpcMessageKind.Notification)]
    [InlineData("""{"jsonrpc":"2.0","id":3,"result":{}}""", JsonRpcMessageKind.Response)]
    [InlineData("""{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"no"}}""", JsonRpcMessageKind.Response)]
    public void TryRead_NotificationsAndResponses(string body, JsonRpcMessageKind kind)
    {
        Assert.Equal(JsonRpcReadError.None, JsonRpcReader.TryRead(Encoding.UTF8.GetBytes(body), out var message));
        Assert.Equal(kind, message!.Kind);
    }

    [Theory]
    [InlineData("", JsonRpcReadError.MalformedJson)]
    [InlineData("{", JsonRpcReadError.MalformedJson)]
    [InlineData("""{"jsonrpc":"2.0","method":"a"}{}""", JsonRpcReadError.MalformedJson)]
    [InlineData("""{"jsonrpc":"2.0",/*c*/"method":"a"}""", JsonRpcReadError.MalformedJson)]
    [InlineData("[]", JsonRpcReadError.Batch)]
    [InlineData("""[{"jsonrpc":"2.0","method":"a"}]""", JsonRpcReadError.Batch)]
    [InlineData("42", JsonRpcReadError.NotJsonRpc)]
    [InlineData("""{"method":"a"}""", JsonRpcReadError.NotJsonRpc)]
    [InlineData("""{"jsonrpc":2,"method":"a"}""", JsonRpcReadError.NotJsonRpc)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"a","result":{}}""", JsonRpcReadError.NotJsonRpc)]
    [InlineData("""{"jsonrpc":"2.0","result":{}}""", JsonRpcReadError.NotJsonRpc)]
    public void TryRead_Rejects(string body, JsonRpcReadError expected)
    {
        Assert.Equal(expected, JsonRpcReader.TryRead(Encoding.UTF8.GetBytes(body), out var message));
        Assert.Null(message);
    }
}
