using Gateway.Transforms.Configuration;

namespace Gateway.Transforms.Pinning;

/// <summary>Checks a server's <c>toolPinning.pins</c>: each a tool's name and the SHA-256 the admin API shows for it.</summary>
internal static class ToolPinningValidator
{
    public static void ValidateServer(string key, McpServerOptions server, List<string> errors)
    {
        foreach (var (tool, pin) in server.ToolPinning.Pins)
        {
            if (pin.Length != 64 || !pin.All(char.IsAsciiHexDigitLower))
            {
                errors.Add($"{key}.toolPinning.pins.{tool}: '{pin}' is no pin. Give the 64 lower-case hex digits of the tool's SHA-256, as GET /api/v1/services/<server>/tools shows it.");
            }
        }

        if (server.ToolPinning.Mode == ToolPinningMode.Off && server.ToolPinning.Pins.Count > 0)
        {
            errors.Add($"{key}.toolPinning.pins: pins are not checked with 'mode: off'. Remove them, or set 'mode: enforce' or 'alert'.");
        }
    }
}
