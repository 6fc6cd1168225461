using System.Security.Cryptography;
using System.Text.Json;
using Delivery.Core;

namespace Delivery.Docker.Tests.Integration;

/// <summary>The real CycloneDX tool (from .config/dotnet-tools.json) on a real, restored project.</summary>
public sealed class SbomTests : IDisposable
{
    static readonly DateTimeOffset CommitTime = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    readonly string dir = Directory.CreateTempSubdirectory("sbom-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    async Task<string> RestoredProjectAsync()
    {
        var project = Path.Combine(dir, "app", "App.csproj");
        Directory.CreateDirectory(Path.GetDirectoryName(project)!);
        // Outside the repository: no central package management, so the version is given here.
        await File.WriteAllTextAsync(project, """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><OutputType>Exe</OutputType></PropertyGroup>
              <ItemGroup><PackageReference Include="Polly" Version="8.9.1" /></ItemGroup>
            </Project>
            """);
        var restore = await ProcessRunner.RunAsync("dotnet", ["restore", project]);
        Assert.True(restore.Succeeded, restore.Tail());
        return project;
    }

    SbomRequest Request(string project, string file) => new()
    {
        Project = project, OutputFile = Path.Combine(dir, "out", file), Name = "App", Version = "1.2.3+build.5", Timestamp = CommitTime,
    };

    [Fact]
    public async Task Lists_the_package_closure_and_one_commit_always_gives_the_same_bytes()
    {
        var project = await RestoredProjectAsync();

        var first = await CycloneDxSbom.GenerateAsync(Request(project, "first.cdx.json"));
        var second = await CycloneDxSbom.GenerateAsync(Request(project, "second.cdx.json"));

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(first.Path))), first.Sha256);
        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Equal(2, first.Components);

        using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(first.Path));
        var root = json.RootElement;
        Assert.Equal("CycloneDX", root.GetProperty("bomFormat").GetString());
        Assert.False(root.TryGetProperty("serialNumber", out _));
        var metadata = root.GetProperty("metadata");
        Assert.Equal("2025-01-02T03:04:05Z", metadata.GetProperty("timestamp").GetString());
        Assert.Equal("App", metadata.GetProperty("component").GetProperty("name").GetString());
        Assert.Equal("1.2.3+build.5", metadata.GetProperty("component").GetProperty("version").GetString());
        var purls = root.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("purl").GetString()).Order().ToList();
        Assert.Equal(["pkg:nuget/Polly.Core@8.9.1", "pkg:nuget/Polly@8.9.1"], purls);
    }

    [Fact]
    public async Task A_project_that_is_not_restored_fails_in_one_line_instead_of_an_empty_sbom()
    {
        var project = Path.Combine(dir, "bare", "Bare.csproj");
        Directory.CreateDirectory(Path.GetDirectoryName(project)!);
        await File.WriteAllTextAsync(project, """<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>""");

        var error = await Assert.ThrowsAsync<DeliveryException>(() => CycloneDxSbom.GenerateAsync(Request(project, "bare.cdx.json")));

        Assert.Equal("Cannot generate an SBOM: Bare.csproj is not restored (no obj/project.assets.json); run dotnet restore first", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task The_metadata_template_carries_name_version_and_the_commit_time()
    {
        var template = CycloneDxSbom.MetadataTemplate(Request("App.csproj", "x.json")).ToString(System.Xml.Linq.SaveOptions.DisableFormatting);

        Assert.Equal("""<bom version="1" xmlns="http://cyclonedx.org/schema/bom/1.7"><metadata><timestamp>2025-01-02T03:04:05Z</timestamp>""" +
                     """<component type="application"><name>App</name><version>1.2.3+build.5</version></component></metadata></bom>""", template);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Reading_a_file_that_is_not_an_sbom_fails_in_one_line()
    {
        var path = Path.Combine(dir, "not.json");
        await File.WriteAllTextAsync(path, """{"hello": 1}""");

        var error = await Assert.ThrowsAsync<DeliveryException>(() => SbomFile.ReadAsync(path));
        var missing = await Assert.ThrowsAsync<DeliveryException>(() => SbomFile.ReadAsync(Path.Combine(dir, "none.json")));

        Assert.Equal($"SBOM {path} is not a CycloneDX document", error.Message);
        Assert.EndsWith("does not exist: run Publish first", missing.Message);
    }
}
