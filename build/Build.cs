using System.Xml.Linq;
using BuildGraph;
using Delivery.Docker;
using Delivery.Core;

/// <summary>
/// This repository's pipeline. Default target: Compile. Further targets live in <c>Build.*.cs</c> partial files.
/// </summary>
partial class Build : BuildBase
{
    public static int Main(string[] args) => Execute<Build>(args, x => x.Compile);

    [Parameter("Configuration for Compile and Test (Publish always uses Release)")]
    readonly BuildConfiguration Configuration = BuildConfiguration.Debug;

    [Parameter("Test filter, passed to dotnet test --filter")]
    readonly string? TestFilter;

    AbsolutePath Solution => RootDirectory / "WebApp.sln";
    AbsolutePath SourceDirectory => RootDirectory / "src";
    AbsolutePath TestsDirectory => RootDirectory / "tests";
    AbsolutePath ArtifactsDirectory => RootDirectory / "artifacts";
    AbsolutePath TestResultsDirectory => ArtifactsDirectory / "test-results";
    AbsolutePath PublishDirectory => ArtifactsDirectory / "publish" / "WebApp";
    AbsolutePath WebAppProject => SourceDirectory / "WebApp" / "WebApp.csproj";

    Target Clean => _ => _
        .Description("Deletes artifacts/ and the bin/obj folders of src/ and tests/")
        .Before(Restore)
        .Executes(() =>
        {
            var folders = new[] { SourceDirectory, TestsDirectory }
                .Where(d => d.DirectoryExists)
                .SelectMany(d => Directory.EnumerateDirectories(d))
                .SelectMany(project => new[] { Path.Combine(project, "bin"), Path.Combine(project, "obj") })
                .Append(ArtifactsDirectory.Value)
                .Where(Directory.Exists)
                .ToList();
            foreach (var folder in folders)
            {
                Directory.Delete(folder, recursive: true);
                Log.Information($"Deleted {Path.GetRelativePath(RootDirectory, folder)}");
            }
            ReportSummary($"{folders.Count} folders deleted");
        });

    Target Restore => _ => _
        .Description("Restores the NuGet packages of WebApp.sln (skipped while its inputs are unchanged)")
        .Executes(async () =>
        {
            // A no-op `dotnet restore` still costs seconds of MSBuild evaluation; skip it while nothing it reads
            // (project files, props, the assets files it wrote) changed since it last succeeded.
            var stamp = RootDirectory / ".nuke" / "temp" / "restore.stamp";
            if (stamp.FileExists && await File.ReadAllTextAsync(stamp) == RestoreInputsHash())
            {
                Log.Information("Restore inputs unchanged since the last restore; nothing to do.");
                ReportSummary("up to date");
                return;
            }
            await DotNet("restore", Solution);
            Directory.CreateDirectory(stamp.Parent);
            await File.WriteAllTextAsync(stamp, RestoreInputsHash());
        });

    Target Compile => _ => _
        .Description("Builds WebApp.sln (--configuration, default Debug)")
        .DependsOn(Restore, Version)
        .Executes(() => DotNet(["build", Solution, "--no-restore", "--configuration", Configuration.ToString(), .. MsBuildProperties()]));

    Target Test => _ => _
        .Description("Runs every test project under tests/ and counts the results from their TRX files")
        // Integration tests need the engine and their tools, and the committed workflow must pass actionlint.
        .DependsOn(Compile, TestPrerequisites, LintWorkflow)
        .Executes(async () =>
        {
            if (TestResultsDirectory.DirectoryExists) Directory.Delete(TestResultsDirectory, recursive: true);
            Directory.CreateDirectory(TestResultsDirectory);

            var total = new TestCounts(0, 0, 0);
            var problems = new List<string>();
            foreach (var project in TestProjects())
            {
                var name = Path.GetFileNameWithoutExtension(project);
                string[] arguments =
                [
                    "test", project, "--no-build", "--configuration", Configuration.ToString(),
                    "--logger", $"trx;LogFileName={name}.trx", "--results-directory", TestResultsDirectory,
                    .. TestFilter is { Length: > 0 } filter ? ["--filter", filter] : Array.Empty<string>(),
                ];
                // The browser the provisioning plan found (chromium, google-chrome, microsoft-edge) for the Playwright tests.
                var options = testBrowser is null ? null : new ProcessOptions
                {
                    Environment = new Dictionary<string, string?> { [Delivery.Provisioning.ProvisioningPlanner.BrowserVariable] = testBrowser },
                };
                var result = await Tool(DotNetExecutable, arguments, options, allowFailure: true);
                var trx = TestResultsDirectory / $"{name}.trx";
                if (!trx.FileExists)
                {
                    problems.Add($"{name} produced no test results (exit code {result.ExitCode})");
                    continue;
                }
                var counts = TestCounts.FromTrx(trx);
                total += counts;
                if (counts.Failed > 0) problems.Add($"{counts.Failed} failed in {name}");
                else if (!result.Succeeded) problems.Add($"{name} exited with code {result.ExitCode}");
            }

            var line = $"Tests: {total.Passed} passed, {total.Failed} failed, {total.Skipped} skipped";
            ReportSummary(line);
            ReportClosingLine(line);
            if (problems.Count > 0) throw new DeliveryException(string.Join("; ", problems));
        });

    AbsolutePath SbomFile => ArtifactsDirectory / "sbom.cdx.json";

    Target Publish => _ => _
        .Description("Publishes src/WebApp in Release to artifacts/publish/WebApp, with its CycloneDX SBOM in artifacts/sbom.cdx.json")
        .DependsOn(Restore, Version)
        .After(Test)
        .Executes(async () =>
        {
            await DotNet(["publish", WebAppProject, "--no-restore", "--configuration", "Release", "--output", PublishDirectory, .. MsBuildProperties()]);
            var v = await CurrentVersion;
            var sbom = await CycloneDxSbom.GenerateAsync(new SbomRequest
            {
                Project = WebAppProject,
                OutputFile = SbomFile,
                Name = "WebApp",
                Version = v.SemVer,
                Timestamp = DateTimeOffset.Parse(await CommitTime(), System.Globalization.CultureInfo.InvariantCulture),
                ToolManifestDirectory = RootDirectory,
            }, CancellationToken);
            Log.Information($"SBOM {Path.GetRelativePath(RootDirectory, sbom.Path)}: {sbom.Components} components, {sbom.Sha256}");
        });

    string RestoreInputsHash()
    {
        var projectDirectories = new[] { SourceDirectory, TestsDirectory }
            .Where(d => d.DirectoryExists)
            .SelectMany(d => Directory.EnumerateDirectories(d))
            .Order(StringComparer.Ordinal);
        var text = new System.Text.StringBuilder();
        text.AppendLine(DotNetExecutable).AppendLine(Environment.Version.ToString());
        foreach (var name in new[] { "WebApp.sln", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "NuGet.config", "nuget.config" })
            AppendFile(RootDirectory / name);
        foreach (var directory in projectDirectories)
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*.csproj").Append(Path.Combine(directory, "packages.lock.json")).Order(StringComparer.Ordinal))
                AppendFile(new AbsolutePath(file));
            var assets = new FileInfo(Path.Combine(directory, "obj", "project.assets.json"));
            text.AppendLine($"{assets.FullName} {(assets.Exists ? $"{assets.Length} {assets.LastWriteTimeUtc.Ticks}" : "missing")}");
        }
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));

        void AppendFile(AbsolutePath file)
        {
            if (file.FileExists) text.AppendLine(file).AppendLine(File.ReadAllText(file));
        }
    }

    // Support libraries under tests/ (such as the AWS test endpoint) hold no tests and write no TRX, so only projects
    // that declare themselves test projects are run.
    IEnumerable<string> TestProjects() =>
        TestsDirectory.DirectoryExists
            ? Directory.EnumerateDirectories(TestsDirectory)
                .SelectMany(d => Directory.EnumerateFiles(d, "*.csproj"))
                .Where(p => File.ReadAllText(p).Contains("<IsTestProject>true</IsTestProject>", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
            : [];

    /// <summary>MSBuild properties for Compile and Publish. Version stamping adds to them by implementing
    /// <see cref="AddVersionProperties"/> in another partial file (-p:Version=…, -p:InformationalVersion=…,
    /// -p:SourceRevisionId=…).</summary>
    List<string> MsBuildProperties()
    {
        var properties = new List<string>();
        AddVersionProperties(properties);
        return properties;
    }

    partial void AddVersionProperties(List<string> properties);

    /// <summary>The dotnet host running this build (the one build.sh chose), so tools use the same SDK.</summary>
    static string DotNetExecutable =>
        Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";

    /// <summary>Runs <c>dotnet</c> with an argument list; see <see cref="Tool(string, IEnumerable{string}, ProcessOptions?, bool)"/>.</summary>
    public Task<ProcessResult> DotNet(params string[] arguments) => Tool(DotNetExecutable, arguments);

    public Task<ProcessResult> Tool(string program, params string[] arguments) => Tool(program, arguments, options: null);

    /// <summary>
    /// Runs a program with an argument list (never a shell string), streams its output through the redacting log,
    /// and throws a one-line <see cref="DeliveryException"/> on a non-zero exit code unless
    /// <paramref name="allowFailure"/>. Ctrl-C kills the process tree. Pass secrets through
    /// <see cref="ProcessOptions.Environment"/> or <see cref="ProcessOptions.StandardInput"/>, not arguments.
    /// </summary>
    public async Task<ProcessResult> Tool(string program, IEnumerable<string> arguments, ProcessOptions? options = null, bool allowFailure = false)
    {
        var list = arguments.ToList();
        Log.Information($"> {Path.GetFileName(program)} {string.Join(" ", list.Select(Quote))}");
        var callerOutput = options?.OnOutput;
        var streaming = (options ?? new ProcessOptions()) with
        {
            OnOutput = line => { Log.Output(line); callerOutput?.Invoke(line); },
        };
        var result = await ProcessRunner.RunAsync(program, list, streaming, CancellationToken);
        if (!result.Succeeded && !allowFailure)
            throw new DeliveryException($"'{Path.GetFileName(program)} {list.FirstOrDefault()}' exited with code {result.ExitCode}");
        return result;
    }

    static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or ';' or '&' or '|')
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}

enum BuildConfiguration { Debug, Release }

/// <summary>Test outcome counts from a TRX file (the VSTest results format).</summary>
readonly record struct TestCounts(int Passed, int Failed, int Skipped)
{
    public static TestCounts operator +(TestCounts a, TestCounts b) =>
        new(a.Passed + b.Passed, a.Failed + b.Failed, a.Skipped + b.Skipped);

    public static TestCounts FromTrx(string path)
    {
        XDocument document;
        try
        {
            document = XDocument.Load(path);
        }
        catch (System.Xml.XmlException e)
        {
            throw new DeliveryException($"Cannot read test results {path}: {e.Message}");
        }
        // One UnitTestResult per executed test case; xunit reports skipped tests as NotExecuted.
        var outcomes = document.Descendants().Where(e => e.Name.LocalName == "UnitTestResult")
            .Select(e => (string?)e.Attribute("outcome") ?? "").ToList();
        return new TestCounts(
            outcomes.Count(o => o == "Passed"),
            outcomes.Count(o => o is "Failed" or "Error" or "Timeout" or "Aborted"),
            outcomes.Count(o => o is "NotExecuted" or "Inconclusive" or "NotRunnable" or "Pending" or "Disconnected" or "Warning"));
    }
}
