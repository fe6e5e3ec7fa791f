using Microsoft.IdentityModel.Tokens;

namespace Gateway.Transforms.InboundAuth;

/// <summary>The signing algorithms inbound tokens may use: asymmetric only, so no one holding a public key can sign.</summary>
public static class JwtAlgorithms
{
    public static IReadOnlyList<string> Asymmetric { get; } =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];
}
