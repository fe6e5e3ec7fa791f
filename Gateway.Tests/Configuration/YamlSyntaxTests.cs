using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>What a YAML file that does not load is reported as: each problem with its line, duplicate keys by their path.</summary>
public sealed class YamlSyntaxTests
{
    [Fact]
    public void WellFormedFile_HasNoProblems() =>
        Assert.Empty(YamlSyntax.Problems("servers:\n  a:\n    destinations: [{ url: 'http://x/mcp' }, { url: 'http://y/mcp' }]\n  b: { transport: stdio }\n"));

    [Fact]
    public void SyntaxError_IsReportedWithItsLineAndColumn()
    {
        var problem = Assert.Single(YamlSyntax.Problems("servers:\n  a:\n    transport: http\n   destinations: []\n"));
        Assert.Equal("Not valid YAML at line 4, column 4: While parsing a block mapping, did not find expected key.", problem);
    }

    [Fact]
    public void InputTheScannerCannotPlace_IsReportedAfterTheLastNodeItRead()
    {
        var problem = Assert.Single(YamlSyntax.Problems("servers:\n  a:\n    destinations: [{ url: 'http://x/mcp' }\n  b: [\n"));
        Assert.StartsWith("Not valid YAML after line 3, column", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateKeys_AreReportedAtEveryLevel_WithBothLines_WhateverTheirCase()
    {
        var problems = YamlSyntax.Problems("servers:\n  a:\n    transport: http\n    Transport: stdio\n  b: {}\n  a: {}\ngateway: { auth: {}, auth: {} }\n");

        Assert.Equal(
        [
            "servers.a.Transport: given twice, at line 3 and line 4. Keep one.",
            "servers.a: given twice, at line 2 and line 6. Keep one.",
            "gateway.auth: given twice, at line 7 and line 7. Keep one.",
        ], problems);
    }

    [Fact]
    public void KeysThatAreNoPlainValues_AreNotComparedAsDuplicates() =>
        Assert.Empty(YamlSyntax.Problems("map:\n  ? [a, b]\n  : 1\n  ? [c]\n  : 2\n"));

    [Fact]
    public void SameKeyInDifferentMappings_IsNoDuplicate() =>
        Assert.Empty(YamlSyntax.Problems("servers:\n  a: { transport: http }\n  b: { transport: http }\nlist:\n  - { name: x }\n  - { name: x }\n"));
}
