using BuildGraph;
using Delivery.Docker;
using Delivery.Core;
using Delivery.Core.Testing;

/// <summary>
/// This repository's pipeline. Default target: Compile. Further targets live in <c>Build.*.cs</c> partial files.
/// </summary>
partial class Build : BuildBase
{
    public static int Main(string[] args)
    {
        // build.sh delays tier 1 for this process only: the tools the build starts (MSBuild, test hosts) keep the default.
        if (System.Environment.GetEnvironmentVariable("BUILD_SH_TIER1_DELAY") == "1")
        {
            System.Environment.SetEnvironmentVariable("DOTNET_TC_CallCountingDelayMs", null);
            System.Environment.SetEnvironmentVariable("BUILD_SH_TIER1_DELAY", null);
        }
        return Execute<Build>(args, x => x.Compile);
    }

    [Parameter("Configuration for Compile and Test (Publish always uses Release)")]
    readonly BuildConfiguration Configuration = BuildConfiguration.Debug;

    [Parameter("Test: only these test projects, comma-separated, with or without .Tests (e.g. Delivery.Versioning)")]
    readonly string? TestProject;

    [Parameter("Test: passed to dotnet test --filter; a bare word runs the tests whose full name contains it")]
    readonly string? TestFilter;

    [Parameter("Test: how many test projects run at once, by default the cores plus two (projects that share a machine-wide resource never do)")]
    readonly int? TestParallelism;

    /// <summary>The run is as long as its longest project (EndToEnd), which runs at normal priority while the others
    /// run niced (--test-niceness), so more of them at once take CPU from each other, not from it. Cores + 2 lets the
    /// project that mostly waits (Delivery.Aws.Tests: 131 s for 22 CPU-s alone) start in the first wave: with cores + 1
    /// it queued behind Docker and ended the run 73 s after EndToEnd (fresh clone at fb3a3d8: test projects 498 s,
    /// EndToEnd 425 s). Compare with --test-parallelism through bench/test-time.sh on a quiet machine.</summary>
    static int DefaultTestParallelism => Environment.ProcessorCount + 2;

    [Parameter("Test: the nice increment of the test projects that run beside the longest (the run's critical path), so they use the CPU it leaves instead of stretching it; 0 runs all alike")]
    readonly int TestNiceness = 10;

    AbsolutePath Solution => RootDirectory / "WebApp.sln";
    AbsolutePath SourceDirectory => RootDirectory / "src";
    AbsolutePath TestsDirectory => RootDirectory / "tests";
    AbsolutePath ArtifactsDirectory => RootDirectory / "artifacts";
    AbsolutePath TestResultsDirectory => ArtifactsDirectory / "test-results";
    AbsolutePath TestTimesFile => ArtifactsDirectory / "test-times.tsv";

    /// <summary>The committed times of a full run, each replaced by this checkout's last run of that project, so a fresh
    /// clone, and a full run after a one-project run, still start the longest first (the order only; nothing is asserted
    /// on the figures).</summary>
    IReadOnlyDictionary<string, TimeSpan> EarlierTestTimes() =>
        TestTimes.ReadDurations(TestsDirectory / "test-times.tsv", TestTimesFile);
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
            var stamp = new RestoreStamp(RootDirectory, RootDirectory / ".nuke" / "temp" / "restore.stamp", DotNetExecutable);
            if (stamp.IsCurrent)
            {
                Log.Information("Restore inputs unchanged since the last restore; nothing to do.");
                ReportSummary("up to date");
                return;
            }
            await DotNet("restore", Solution);
            stamp.Write();
        });

    Target Compile => _ => _
        .Description("Builds WebApp.sln (--configuration, default Debug)")
        .DependsOn(Restore, Version)
        .Executes(() => DotNet(["build", Solution, "--no-restore", "--configuration", Configuration.ToString(), .. MsBuildProperties()]));

    Target Test => _ => _
        .Description("Runs the test projects under tests/ side by side (--test-project, --test-filter) and counts the results from their TRX files")
        // Integration tests need the engine and their tools, and the committed workflow must pass actionlint.
        .DependsOn(Compile, TestPrerequisites, LintWorkflow)
        .Executes(async () =>
        {
            var projects = TestProjectCatalog.Select(TestProjectCatalog.Discover(TestsDirectory), TestProject);
            var summary = await DotNetTestRun.RunAsync(projects, new DotNetTestOptions
            {
                DotNet = DotNetExecutable, Configuration = Configuration.ToString(), ResultsDirectory = TestResultsDirectory,
                Filter = TestFilter, Parallelism = TestParallelism ?? DefaultTestParallelism, EarlierDurations = EarlierTestTimes(),
                OffCriticalPathNiceness = TestNiceness,
                // The browser the provisioning plan found (chromium, google-chrome, microsoft-edge) for the Playwright tests.
                Environment = testBrowser is null ? null : new Dictionary<string, string?> { [Delivery.Provisioning.ProvisioningPlanner.BrowserVariable] = testBrowser },
            }, Log.Information, Log.Output, CancellationToken);
            await File.WriteAllTextAsync(TestTimesFile, TestTimes.Format(summary));
            ReportSummary(summary.Line);
            ReportClosingLine(summary.Line);
            if (summary.Problems.Count > 0) throw new DeliveryException(string.Join("; ", summary.Problems));
        });

    AbsolutePath SbomFile => ArtifactsDirectory / "sbom.cdx.json";

    Target Publish => _ => _
        .Description("Publishes src/WebApp in Release (built from a mirror at --canonical-source-directory, so the clone's path stays out of the dll) to artifacts/publish/WebApp, with its CycloneDX SBOM in artifacts/sbom.cdx.json")
        .DependsOn(Restore, Version)
        .After(Test)
        .Executes(async () =>
        {
            await PublishFromCanonicalSource(WebAppProject, PublishDirectory, "Release");
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

    /// <summary>Runs a program with an argument list (never a shell string), streams its output through the redacting
    /// log, and throws a one-line <see cref="DeliveryException"/> on a non-zero exit code unless <paramref name="allowFailure"/>.
    /// Ctrl-C kills the process tree.</summary>
    public Task<ProcessResult> Tool(string program, IEnumerable<string> arguments, ProcessOptions? options = null, bool allowFailure = false) =>
        new ToolRunner(Log.Information, Log.Output).RunAsync(program, arguments, options, allowFailure, CancellationToken);
}

enum BuildConfiguration { Debug, Release }

