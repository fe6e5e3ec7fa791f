namespace Gateway.Transforms.Limits;

/// <summary>Checks <c>servers.&lt;name&gt;.rateLimit</c> and its tools' limits.</summary>
internal static class RateLimitValidator
{
    public static void Validate(string key, RateLimitOptions limit, List<string> errors)
    {
        ValidateBucket(key, limit, errors);
        foreach (var (tool, toolLimit) in limit.Tools)
        {
            ValidateBucket($"{key}.tools.{tool}", toolLimit, errors);
        }
    }

    private static void ValidateBucket(string key, RateLimitOptions limit, List<string> errors)
    {
        if (limit.RequestsPerMinute is < 1 or > 1_000_000)
        {
            errors.Add($"{key}.requestsPerMinute: '{limit.RequestsPerMinute}' is out of range. Give between 1 and 1000000 requests per minute per caller.");
        }

        if (limit.Burst is < 1 or > 1_000_000)
        {
            errors.Add($"{key}.burst: '{limit.Burst}' is out of range. Give between 1 and 1000000.");
        }
    }
}
