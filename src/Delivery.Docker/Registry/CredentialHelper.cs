using System.Diagnostics;
using System.Text.Json;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>
/// The docker credential helper protocol: <c>docker-credential-&lt;name&gt; get</c> reads the server URL on stdin and
/// prints <c>{"Username":…,"Secret":…}</c>. The secret travels only through the helper's stdout.
/// </summary>
public static class CredentialHelper
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The helper's credentials for <paramref name="serverUrl"/>, or null when it has none. A missing
    /// helper is an error unless <paramref name="optional"/> (a default <c>credsStore</c> copied from another
    /// machine, whose <c>auths</c> may still hold what is needed).</summary>
    public static RegistryAuth? Get(string helper, string serverUrl, string registry, bool optional = false)
    {
        var program = $"docker-credential-{helper}";
        var start = new ProcessStartInfo(program, ["get"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new DeliveryException($"Cannot start {program}");
        }
        catch (System.ComponentModel.Win32Exception) when (optional)
        {
            return null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new DeliveryException($"Docker config names the credential helper '{helper}' for {registry}, but {program} is not on PATH");
        }
        using (process)
        {
            process.StandardInput.Write(serverUrl);
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new DeliveryException($"{program} get did not answer within {Timeout.TotalSeconds:0} s for {registry}");
            }
            var stdout = output.Result;
            if (process.ExitCode != 0)
            {
                var message = (stdout + " " + error.Result).Trim();
                // The protocol's "not found" answer: this helper simply has nothing for the registry.
                if (message.Contains("credentials not found", StringComparison.OrdinalIgnoreCase)) return null;
                throw new DeliveryException($"{program} get failed for {registry} (exit {process.ExitCode}): {FirstLine(message)}");
            }
            try
            {
                using var document = JsonDocument.Parse(stdout);
                var root = document.RootElement;
                var username = root.TryGetProperty("Username", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
                var secret = root.TryGetProperty("Secret", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                return string.IsNullOrEmpty(username) && string.IsNullOrEmpty(secret) ? null : new RegistryAuth(username, secret, registry);
            }
            catch (JsonException)
            {
                // Never echo the output: it may hold the secret.
                throw new DeliveryException($"{program} get answered for {registry} with something that is not the helper protocol's JSON");
            }
        }
    }

    static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
}
