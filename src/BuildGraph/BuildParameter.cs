using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace BuildGraph;

/// <summary>A member of the build class marked <see cref="ParameterAttribute"/>, and how to set it from text.</summary>
internal sealed partial class BuildParameter
{
    static readonly Type[] ScalarTypes = [typeof(string), typeof(bool), typeof(int), typeof(long), typeof(double), typeof(TimeSpan)];

    BuildParameter(MemberInfo member, string name, Type type, string description, bool isSecret)
    {
        Member = member;
        Name = name;
        Type = type;
        Description = description;
        IsSecret = isSecret;
        var unwrapped = Nullable.GetUnderlyingType(type) ?? type;
        IsArray = unwrapped.IsArray;
        ElementType = IsArray ? unwrapped.GetElementType()! : unwrapped;
        ElementType = Nullable.GetUnderlyingType(ElementType) ?? ElementType;
    }

    public MemberInfo Member { get; }
    /// <summary>The member name, or the name the attribute gives; the command line, environment and file use it.</summary>
    public string Name { get; }
    public string CliName => Naming.Kebab(Name);
    public string OptionName => "--" + CliName;
    public string EnvironmentName => Naming.EnvironmentName(Name);
    public string Key => Naming.Key(Name);
    public string Description { get; }
    /// <summary>Earlier names that still work, with a warning (see <see cref="ParameterAttribute.DeprecatedNames"/>).</summary>
    public IReadOnlyList<string> DeprecatedNames { get; private init; } = [];
    public IEnumerable<string> DeprecatedOptionNames => DeprecatedNames.Select(n => "--" + Naming.Kebab(n));
    public bool IsSecret { get; }
    public Type Type { get; }
    public bool IsArray { get; }
    public Type ElementType { get; }
    public bool IsFlag => !IsArray && ElementType == typeof(bool);

    /// <summary>How the value is written in help: <c>&lt;int&gt;</c>, <c>&lt;Debug|Release&gt;</c>, <c>&lt;string&gt;...</c>.</summary>
    public string ValueLabel
    {
        get
        {
            var element = ElementType.IsEnum ? string.Join("|", Enum.GetNames(ElementType)) : TypeWord;
            return IsArray ? $"<{element}>..." : IsFlag ? $"[<{element}>]" : $"<{element}>";
        }
    }

    /// <summary>The element type as help and errors both spell it, so they agree.</summary>
    string TypeWord =>
        ElementType == typeof(string) ? "string"
        : ElementType == typeof(bool) ? "bool"
        : ElementType == typeof(int) ? "int"
        : ElementType == typeof(long) ? "long"
        : ElementType == typeof(double) ? "double"
        : ElementType == typeof(TimeSpan) ? "timespan"
        : ElementType.Name;

    public static IReadOnlyList<BuildParameter> Discover(Type buildType)
    {
        var parameters = new Dictionary<string, BuildParameter>(StringComparer.Ordinal);
        for (var type = buildType; type is not null && type != typeof(BuildBase); type = type.BaseType)
        {
            const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            var members = type.GetFields(flags).Cast<MemberInfo>().Concat(type.GetProperties(flags));
            foreach (var member in members)
            {
                if (member.GetCustomAttribute<ParameterAttribute>() is not { } attribute) continue;
                if (parameters.ContainsKey(member.Name)) continue; // overridden in a derived class
                var memberType = member is FieldInfo f ? f.FieldType : ((PropertyInfo)member).PropertyType;
                var name = string.IsNullOrWhiteSpace(attribute.Name) ? member.Name : attribute.Name;
                var parameter = new BuildParameter(member, name, memberType, attribute.Description, member.IsDefined(typeof(SecretAttribute)))
                {
                    DeprecatedNames = attribute.DeprecatedNames,
                };
                if (!parameter.IsSupported)
                    throw new BuildException($"Parameter {member.Name} has type {memberType.Name}, which is not supported (string, bool, int, long, double, TimeSpan, enums, and arrays of them).");
                parameters[member.Name] = parameter;
            }
        }
        var list = parameters.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        foreach (var clash in list.GroupBy(p => p.Key).Where(g => g.Count() > 1))
            throw new BuildException($"Parameters {string.Join(" and ", clash.Select(p => p.Member.Name))} have the same name {clash.First().OptionName}.");
        foreach (var p in list)
            foreach (var old in p.DeprecatedNames.Where(n => list.Any(other => other.Key == Naming.Key(n))))
                throw new BuildException($"Parameter {p.Member.Name}'s deprecated name {old} is the name of a parameter.");
        return list;
    }

    bool IsSupported => ElementType.IsEnum || ScalarTypes.Contains(ElementType);

    public object? GetValue(object build) => Member switch
    {
        FieldInfo f => f.GetValue(build),
        PropertyInfo p => p.GetValue(build),
        _ => null,
    };

    public void SetValue(object build, object? value)
    {
        switch (Member)
        {
            case FieldInfo field:
                field.SetValue(build, value);
                break;
            case PropertyInfo { SetMethod: not null } property:
                property.SetValue(build, value);
                break;
            case PropertyInfo property:
                // A get-only auto-property: set the field the compiler generated for it.
                var backing = property.DeclaringType!.GetField($"<{property.Name}>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)
                    ?? throw new BuildException($"Parameter {property.Name} is a get-only property without a backing field; give it a setter.");
                backing.SetValue(build, value);
                break;
        }
    }

    /// <summary>Converts raw values to the member's type. <paramref name="source"/> is named in errors (null for the command line).</summary>
    public object? Convert(IReadOnlyList<string> values, string? source)
    {
        if (IsArray)
        {
            var array = Array.CreateInstance(ElementType, values.Count);
            for (var i = 0; i < values.Count; i++) array.SetValue(ConvertScalar(values[i], source), i);
            return array;
        }
        if (values.Count != 1)
            throw new BuildException($"Parameter {OptionName}: expected one value but got {values.Count}{From(source)}");
        return ConvertScalar(values[0], source);
    }

    object ConvertScalar(string raw, string? source)
    {
        var text = raw.Trim();
        var t = ElementType;
        if (t == typeof(string)) return raw;
        if (t == typeof(bool) && bool.TryParse(text, out var b)) return b;
        if (t == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)) return i;
        if (t == typeof(long) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return l;
        if (t == typeof(double) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        if (t == typeof(TimeSpan) && TryParseTimeSpan(text, out var span)) return span;
        if (t.IsEnum)
        {
            var match = Enum.GetNames(t).FirstOrDefault(n => Naming.Key(n) == Naming.Key(text) && text.Length > 0);
            if (match is not null) return Enum.Parse(t, match);
            throw new BuildException($"Parameter {OptionName}: '{raw}' is not a valid {t.Name} ({string.Join(", ", Enum.GetNames(t))}){From(source)}");
        }
        var hint = t == typeof(TimeSpan) ? " (e.g. 90s, 5m, 1h, 00:05:00)" : "";
        throw new BuildException($"Parameter {OptionName}: '{raw}' is not a valid {TypeWord}{hint}{From(source)}");
    }

    static string From(string? source) => source is null ? "" : $" (from {source})";

    static bool TryParseTimeSpan(string text, out TimeSpan value)
    {
        var m = ShortDuration().Match(text);
        if (m.Success)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            value = m.Groups[2].Value switch
            {
                "" or "s" => TimeSpan.FromSeconds(n), // a bare number is seconds, never TimeSpan.Parse's days
                "ms" => TimeSpan.FromMilliseconds(n),
                "m" => TimeSpan.FromMinutes(n),
                _ => TimeSpan.FromHours(n),
            };
            return true;
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A duration as the command line takes it back: 90s, 2m, 1h, 250ms.</summary>
    public static string Duration(TimeSpan t) =>
        t.TotalMilliseconds % 1000 != 0 ? $"{t.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms"
        : t.TotalSeconds % 3600 == 0 && t.TotalSeconds > 0 ? $"{t.TotalHours.ToString(CultureInfo.InvariantCulture)}h"
        : t.TotalSeconds % 60 == 0 && t.TotalSeconds > 0 ? $"{t.TotalMinutes.ToString(CultureInfo.InvariantCulture)}m"
        : $"{t.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s";

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")]
    private static partial Regex ShortDuration();

    /// <summary>The value as shown in help (<c>--help</c> shows defaults; never for secrets).</summary>
    public static string? Display(object? value) => value switch
    {
        null => null,
        string s => s.Length == 0 ? null : s,
        bool b => b ? "true" : null,
        Array a => a.Length == 0 ? null : string.Join(" ", a.Cast<object?>().Select(x => Display(x) ?? "")),
        TimeSpan t => Duration(t),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
