namespace Gateway.Transforms.Configuration;

/// <summary>The routes file cannot be used; the message lists every problem with its key and fix.</summary>
public sealed class InvalidRoutesException : Exception
{
    public InvalidRoutesException(string path, IEnumerable<string> errors)
        : base($"The routes file '{path}' is invalid; the gateway did not start:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", errors)}")
    {
    }

    public InvalidRoutesException()
    {
    }

    public InvalidRoutesException(string message)
        : base(message)
    {
    }

    public InvalidRoutesException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
