using BuildGraph;
using Delivery.Versioning;

partial class Build
{
    [Parameter("Use this SemVer instead of computing it from git tags (for builds from a tarball)")]
    readonly string? VersionOverride;

    Task<VersionInfo>? version;

    /// <summary>Computed once per run, on first use, by minver-cli (a local tool in .config/dotnet-tools.json):
    /// Compile, Publish and the image all stamp the same version.</summary>
    Task<VersionInfo> CurrentVersion => version ??= CalculateVersion();

    async Task<VersionInfo> CalculateVersion()
    {
        var v = await VersionCalculator.CalculateAsync(RootDirectory,
            VersionOptions.Default with { Override = VersionOverride, ToolManifestDirectory = RootDirectory }, CancellationToken);
        foreach (var warning in v.Warnings) Log.Warning(warning);
        return v;
    }

    Target Version => _ => _
        .Description("Computes the version from git tags with MinVer (minver-cli) and prints it")
        .Executes(async () =>
        {
            var v = await CurrentVersion;
            Log.Information($"SemVer {v.SemVer}, informational {v.InformationalVersion}, tag {v.Tag ?? "(none)"}, height {v.Height}, " +
                            $"branch {v.BranchName ?? "(detached)"}, release {v.IsRelease}, dirty {v.IsDirty}");
            ReportSummary($"Version: {v.SemVer}");
        });

    partial void AddVersionProperties(List<string> properties)
    {
        var v = CurrentVersion.GetAwaiter().GetResult();
        properties.AddRange(v.MSBuildProperties.Select(p => $"-p:{p.Key}={p.Value}"));
    }
}
