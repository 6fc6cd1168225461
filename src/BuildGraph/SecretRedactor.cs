using System.Text.Encodings.Web;
using System.Text.Json;

namespace BuildGraph;

/// <summary>Replaces every known secret value (and its URL- and JSON-escaped forms) with <c>***</c>.</summary>
internal sealed class SecretRedactor
{
    public const string Mask = "***";
    readonly object gate = new();
    volatile string[] secrets = [];

    public void Add(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return;
        var forms = new HashSet<string>(StringComparer.Ordinal) { value, value.Trim() };
        forms.Add(Uri.EscapeDataString(value));
        forms.Add(JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString());
        // Output arrives line by line, so each line of a multi-line secret (a key file) must match on its own.
        if (value.Contains('\n'))
            foreach (var line in value.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                forms.Add(line);
        forms.RemoveWhere(string.IsNullOrWhiteSpace);
        lock (gate)
            secrets = secrets.Concat(forms).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length).ToArray();
    }

    public string Redact(string text)
    {
        var current = secrets;
        foreach (var secret in current)
            if (text.Contains(secret, StringComparison.Ordinal))
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
        return text;
    }
}
