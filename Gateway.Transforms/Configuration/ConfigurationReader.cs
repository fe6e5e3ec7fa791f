using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Runtime.Serialization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Gateway.Configuration;

/// <summary>
/// Reads a configuration section into an options record, and reports every problem with the key it is at: unknown
/// keys at their own level, values of the wrong kind (numbers, switches, durations, fixed sets), never a .NET type name.
/// </summary>
/// <remarks>
/// ConfigurationBinder stops at the first problem and names types; so the section is first walked against the
/// record's shape, every bad value is reported and left out, and only what passed is bound. Durations may be written
/// <c>30s</c>, <c>5m</c>, <c>1h30m</c>, <c>250ms</c>, <c>2d</c> or <c>hh:mm:ss</c>; a bare number is refused, since
/// .NET would read <c>60</c> as 60 days. Shared as source with the stdio bridge, whose own file has the same rules.
/// </remarks>
internal static partial class ConfigurationReader
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, PropertyInfo>> Properties = new();

    /// <summary>Reads <paramref name="section"/> as a <typeparamref name="T"/>; what cannot be read is reported and left at its default.</summary>
    /// <param name="section">The section, e.g. <c>servers:github</c>.</param>
    /// <param name="errors">Where problems are added, each starting with its key (<c>servers.github.timeouts.connect: …</c>).</param>
    /// <param name="skip">Keys of the section that another reader owns: neither checked nor bound here.</param>
    public static T Read<T>(IConfigurationSection section, ICollection<string> errors, Func<string, bool>? skip = null)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(section);
        var accepted = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(section.Value))
        {
            CheckObject(section, typeof(T), KeyOf(section.Path), accepted, errors, skip);
        }
        else if (skip is null)
        {
            // A section read in parts reports its own value once, in the first part.
            errors.Add($"{KeyOf(section.Path)}: expects keys under it, not the single value '{section.Value}'.");
        }
        var clean = new ConfigurationBuilder().AddInMemoryCollection(accepted).Build();
        return clean.GetSection(section.Path).Get<T>(binder => binder.ErrorOnUnknownConfiguration = true) ?? new T();
    }

    /// <summary>The keys a record reads, as routes.yaml spells them.</summary>
    public static IEnumerable<string> KeysOf(Type type) => PropertiesOf(type).Keys;

    /// <summary>How a value of a fixed set is written in the file: its <see cref="EnumMemberAttribute"/>, else its name in camelCase.</summary>
    public static string NameOf(Enum value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var name = value.ToString();
        return value.GetType().GetField(name)?.GetCustomAttribute<EnumMemberAttribute>()?.Value ?? CamelCase(name);
    }

    /// <summary>Reads a duration as the file may write it.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
        }

        value = TimeSpan.Zero;
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success)
        {
            return false;
        }

        var milliseconds = 0.0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = part.Value.TrimStart("0123456789.".ToCharArray());
            var amount = double.Parse(part.Value.AsSpan(0, part.Value.Length - unit.Length), CultureInfo.InvariantCulture);
            milliseconds += amount * unit switch
            {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => 86_400_000,
            };
        }

        // Beyond TimeSpan's range (about 29,000 years) is no duration a setting can mean.
        if (milliseconds >= TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(milliseconds);

        if (match.Groups["sign"].Success)
        {
            value = -value;
        }

        return true;
    }

    private static void Check(IConfigurationSection section, Type type, string key, Dictionary<string, string?> accepted, ICollection<string> errors)
    {
        var nullable = Nullable.GetUnderlyingType(type);
        var target = nullable ?? type;
        if (IsLeaf(target))
        {
            // 'key:' with nothing after it leaves a nullable setting unset, as the binder would.
            if (!(nullable is not null && section.Value is "" && !section.GetChildren().Any()))
            {
                CheckLeaf(section, target, key, accepted, errors);
            }
        }
        else if (!string.IsNullOrEmpty(section.Value))
        {
            var shape = ElementTypeOf(target, typeof(IReadOnlyDictionary<,>)) is not null ? "a map of keys and values"
                : ElementTypeOf(target, typeof(IReadOnlyList<>)) is not null ? "a list, e.g. '[ a, b ]'"
                : "keys under it";
            errors.Add($"{key}: expects {shape}, not the single value '{section.Value}'.");
        }
        else if (ElementTypeOf(target, typeof(IReadOnlyDictionary<,>)) is { } valueType)
        {
            foreach (var child in section.GetChildren())
            {
                Check(child, valueType, $"{key}.{child.Key}", accepted, errors);
            }
        }
        else if (ElementTypeOf(target, typeof(IReadOnlyList<>)) is { } elementType)
        {
            foreach (var child in section.GetChildren())
            {
                if (int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    Check(child, elementType, $"{key}[{child.Key}]", accepted, errors);
                }
                else
                {
                    errors.Add($"{key}: expects a list, e.g. '[ a, b ]', not a map with the key '{child.Key}'.");
                }
            }
        }
        else
        {
            CheckObject(section, target, key, accepted, errors, skip: null);
        }
    }

    private static void CheckObject(IConfigurationSection section, Type type, string key, Dictionary<string, string?> accepted, ICollection<string> errors, Func<string, bool>? skip)
    {
        var properties = PropertiesOf(type);
        foreach (var child in section.GetChildren())
        {
            if (skip?.Invoke(child.Key) == true)
            {
                continue;
            }

            if (properties.TryGetValue(child.Key, out var property))
            {
                Check(child, property.PropertyType, $"{key}.{child.Key}", accepted, errors);
            }
            else
            {
                errors.Add($"{key}: unknown key '{child.Key}'. Keys here: {string.Join(", ", properties.Keys)}.");
            }
        }
    }

    private static void CheckLeaf(IConfigurationSection section, Type type, string key, Dictionary<string, string?> accepted, ICollection<string> errors)
    {
        if (section.GetChildren().Any())
        {
            errors.Add($"{key}: expects a single value, not a list or a map.");
            return;
        }

        if (section.Value is not { } text)
        {
            return;
        }

        if (TryNormalize(type, text, out var normalized, out var expected))
        {
            accepted[section.Path] = normalized;
        }
        else
        {
            errors.Add($"{key}: '{text}' is not {expected}.");
        }
    }

    private static bool TryNormalize(Type type, string text, out string? normalized, out string expected)
    {
        normalized = text;
        expected = string.Empty;
        if (type == typeof(string))
        {
            return true;
        }

        if (type == typeof(bool))
        {
            expected = "true or false";
            return bool.TryParse(text, out _);
        }

        if (type == typeof(int) || type == typeof(long))
        {
            expected = "a whole number";
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                && (type == typeof(long) || number is >= int.MinValue and <= int.MaxValue);
        }

        if (type == typeof(double))
        {
            expected = "a number, e.g. 0.5";
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        }

        if (type == typeof(TimeSpan))
        {
            expected = "a duration. Write it with a unit, e.g. '30s', '5m', '1h', '250ms', or as 'hh:mm:ss'";
            var parsed = TryParseDuration(text, out var duration);
            normalized = parsed ? duration.ToString("c", CultureInfo.InvariantCulture) : null;
            return parsed;
        }

        var names = Enum.GetValues(type).Cast<Enum>().ToDictionary(NameOf, v => v.ToString(), StringComparer.OrdinalIgnoreCase);
        expected = "one of: " + string.Join(", ", names.Keys);
        normalized = names.GetValueOrDefault(text) ?? Enum.GetNames(type).FirstOrDefault(n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
        return normalized is not null;
    }

    private static bool IsLeaf(Type type) =>
        type == typeof(string) || type == typeof(bool) || type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(TimeSpan) || type.IsEnum;

    private static Type? ElementTypeOf(Type type, Type readOnlyInterface)
    {
        var match = type.IsGenericType && type.GetGenericTypeDefinition() == readOnlyInterface
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == readOnlyInterface);
        return match?.GetGenericArguments()[^1];
    }

    private static IReadOnlyDictionary<string, PropertyInfo> PropertiesOf(Type type) =>
        Properties.GetOrAdd(type, static t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true })
            .ToDictionary(p => CamelCase(p.Name), StringComparer.OrdinalIgnoreCase));

    /// <summary>A section's path (<c>servers:github</c>) as the file's key (<c>servers.github</c>).</summary>
    private static string KeyOf(string path) => path.Replace(':', '.');

    private static string CamelCase(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    [GeneratedRegex(@"^(?<sign>-)?(?<part>\d+(\.\d+)?(ms|s|m|h|d))+$")]
    private static partial Regex DurationPattern();
}
