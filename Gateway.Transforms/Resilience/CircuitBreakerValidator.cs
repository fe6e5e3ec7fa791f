namespace Gateway.Transforms.Resilience;

/// <summary>Checks <c>servers.&lt;name&gt;.circuitBreaker</c> against Polly's own limits.</summary>
internal static class CircuitBreakerValidator
{
    public static void Validate(string key, CircuitBreakerOptions breaker, List<string> errors)
    {
        if (breaker.FailureRatio is <= 0 or > 1)
        {
            errors.Add($"{key}.failureRatio: '{breaker.FailureRatio}' is out of range. Give a share above 0 and at most 1, e.g. 0.5.");
        }

        if (breaker.MinimumThroughput < 2)
        {
            errors.Add($"{key}.minimumThroughput: '{breaker.MinimumThroughput}' is too small. Give at least 2.");
        }

        if (breaker.SamplingDuration < TimeSpan.FromMilliseconds(500))
        {
            errors.Add($"{key}.samplingDuration: '{breaker.SamplingDuration}' is too short. Give at least '500ms'.");
        }

        if (breaker.BreakDuration < TimeSpan.FromMilliseconds(500) || breaker.BreakDuration > TimeSpan.FromDays(1))
        {
            errors.Add($"{key}.breakDuration: '{breaker.BreakDuration}' is out of range. Give between '500ms' and '1d'.");
        }
    }
}
