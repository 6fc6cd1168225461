using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Delivery.Workflows.Yaml;

/// <summary>
/// Renders a <see cref="YamlNode"/> tree through YamlDotNet's emitter with a fixed, explicit scalar style for
/// every value, so the same tree always gives the same bytes (LF, two-space indent, indented sequences, no wrapping).
/// </summary>
public static partial class YamlText
{
    public static string Write(YamlNode root)
    {
        var writer = new StringWriter { NewLine = "\n" };
        var settings = new EmitterSettings(
            bestIndent: 2,
            bestWidth: int.MaxValue, // never fold long expressions onto a second line
            isCanonical: false,
            maxSimpleKeyLength: 1024,
            skipAnchorName: false,
            indentSequences: true,
            newLine: "\n");
        var emitter = new Emitter(writer, settings);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        Emit(emitter, root);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return writer.ToString();
    }

    static void Emit(IEmitter emitter, YamlNode node)
    {
        switch (node)
        {
            case YamlMap map:
                emitter.Emit(new MappingStart(null, null, isImplicit: true, MappingStyle.Block));
                foreach (var (key, value) in map)
                {
                    // Keys are our own identifiers (on, runs-on, env names); a plain key is what GitHub expects,
                    // and in particular `on` must not become "on" or be read as a boolean by the serializer.
                    emitter.Emit(Scalar(key, ScalarStyle.Plain));
                    Emit(emitter, value);
                }
                emitter.Emit(new MappingEnd());
                break;
            case YamlList list:
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
                foreach (var item in list) Emit(emitter, item);
                emitter.Emit(new SequenceEnd());
                break;
            case YamlScalar scalar:
                emitter.Emit(Scalar(scalar.Value, StyleFor(scalar)));
                break;
            default:
                throw new InvalidOperationException($"Unknown YAML node {node.GetType().Name}.");
        }
    }

    static Scalar Scalar(string value, ScalarStyle style) =>
        new(AnchorName.Empty, TagName.Empty, value, style, isPlainImplicit: true, isQuotedImplicit: true);

    /// <summary>The style a value is written in: literal block for multi-line text, plain when safe, else single quotes.</summary>
    public static ScalarStyle StyleFor(YamlScalar scalar)
    {
        if (!scalar.IsText) return ScalarStyle.Plain;
        if (scalar.Value.Contains('\n')) return ScalarStyle.Literal;
        return CanBePlain(scalar.Value) ? ScalarStyle.Plain : ScalarStyle.SingleQuoted;
    }

    /// <summary>
    /// True when the text, written without quotes, reads back as the same string under both YAML 1.1 and 1.2
    /// resolvers. Deliberately conservative: `${{ expr }}` stays plain (the form GitHub's docs use), while
    /// anything that starts with an indicator or could resolve to a bool, null or number is quoted.
    /// </summary>
    public static bool CanBePlain(string text)
    {
        if (text.Length == 0) return false;
        if (char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1])) return false;
        if ("-?:,[]{}#&*!|>'\"%@`".Contains(text[0])) return false;
        if (text.Contains(": ") || text.Contains(" #") || text.EndsWith(':')) return false;
        if (text.Any(char.IsControl)) return false;
        if (char.IsAsciiDigit(text[0])) return false;
        if (text.Length > 1 && (text[0] is '+' or '.') && char.IsAsciiDigit(text[1])) return false;
        return !ReservedWords().IsMatch(text);
    }

    [GeneratedRegex(@"^(y|n|yes|no|true|false|on|off|null|~|[-+]?\.inf|\.nan)$", RegexOptions.IgnoreCase)]
    private static partial Regex ReservedWords();
}
