using System.ComponentModel;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

// --tools N: as many more tools, each with a description and a three-property schema, for the tools/list benchmark.
for (var i = 0; i < builder.Configuration.GetValue("tools", 0); i++)
{
    var name = $"tool_{i:D3}";
    builder.Services.AddSingleton(McpServerTool.Create(
        (string path, int depth, bool recursive) => $"{name} {path} {depth} {recursive}",
        new McpServerToolCreateOptions
        {
            Name = name,
            Description = $"Lists the entries of a directory of the project workspace, {name}, down to a depth, optionally recursively, and returns them as text.",
        }));
}

builder.Services.AddMcpServer()
    .WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.Stateless)
    .WithTools<EchoTools>();
var app = builder.Build();
app.MapMcp("/mcp");
await app.RunAsync();

[McpServerToolType]
internal sealed class EchoTools
{
    [McpServerTool(Name = "echo"), Description("Returns its input.")]
    public static string Echo(string message) => message;
}
