using Docker.DotNet.Models;
using Xunit.Abstractions;

namespace Delivery.Docker.Tests.Integration;

[Collection(DockerCollection.Name)]
public sealed class RuntimeImageTests(DockerFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task The_offline_base_image_holds_the_hosts_runtime_and_is_not_rebuilt()
    {
        var reference = await fixture.BaseImageAsync();
        var created = fixture.BaseImageResult!;
        output.WriteLine($"{reference}: created={created.Created} in {created.Elapsed.TotalSeconds:0.00} s, {created.Size / 1_000_000} MB");
        foreach (var line in fixture.BaseImageLog) output.WriteLine(line);

        Assert.True(created.Created);
        Assert.Equal($"{fixture.BaseImageRepository}:{RuntimeBaseImage.DetectRuntimeVersion()}-offline", reference);
        Assert.InRange(created.Size, 100_000_000, 250_000_000);

        var image = await fixture.Docker.InspectImageAsync(reference);
        Assert.NotNull(image);
        Assert.Contains("DOTNET_ROOT=/usr/share/dotnet", image.Config!.Env!);
        Assert.Contains(image.Config.Env!, e => e.StartsWith("PATH=", StringComparison.Ordinal) && e.EndsWith(":/usr/share/dotnet", StringComparison.Ordinal));

        var again = await RuntimeBaseImage.EnsureAsync(fixture.Docker, new RuntimeBaseImageOptions { Repository = fixture.BaseImageRepository });
        Assert.False(again.Created);
        Assert.Equal(image.ID, again.ImageId);
    }

    [Fact]
    public async Task The_collected_root_filesystem_has_the_loader_OpenSSL_ICU_and_app_user()
    {
        var archive = await RuntimeBaseImage.CollectAsync(new RuntimeBaseImageOptions());
        var version = RuntimeBaseImage.DetectRuntimeVersion();

        Assert.True(archive.Contains("/usr/share/dotnet/dotnet"));
        Assert.True(archive.Contains($"/usr/share/dotnet/shared/Microsoft.AspNetCore.App/{version}/Microsoft.AspNetCore.dll"));
        Assert.True(archive.Contains($"/usr/share/dotnet/shared/Microsoft.NETCore.App/{version}/libcoreclr.so"));
        Assert.True(archive.Contains("/lib64/ld-linux-x86-64.so.2"));
        Assert.True(archive.Contains("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
        Assert.True(archive.Contains("/usr/lib/x86_64-linux-gnu/libicuuc.so.72"));
        Assert.True(archive.Contains("/etc/ssl/certs/ca-certificates.crt"));
        Assert.True(archive.Contains("/etc/passwd"));
        Assert.True(archive.Contains("/tmp"));
    }

    [Fact]
    public async Task The_assembled_app_image_builds_on_it_with_OCI_labels_and_a_numeric_non_root_user()
    {
        var reference = await fixture.AppImageAsync();

        var image = await fixture.Docker.InspectImageAsync(reference);
        Assert.NotNull(image);
        Assert.Equal("10001:10001", image.Config!.User);
        Assert.Equal(["dotnet", "WebApp.dll"], image.Config.Entrypoint);
        Assert.Equal("/app", image.Config.WorkingDir);
        Assert.Contains("8080/tcp", image.Config.ExposedPorts!.Keys);
        Assert.Contains("ASPNETCORE_HTTP_PORTS=8080", image.Config.Env!);
        Assert.Equal(DockerFixture.AppVersion, image.Config!.Labels["org.opencontainers.image.version"]);
        Assert.Equal("0123456789abcdef", image.Config!.Labels["org.opencontainers.image.revision"]);
        Assert.Equal("2025-01-02T03:04:05Z", image.Config!.Labels["org.opencontainers.image.created"]);
        Assert.Equal("https://example.invalid/webapp", image.Config!.Labels["org.opencontainers.image.source"]);
        Assert.Equal("WebApp", image.Config!.Labels["org.opencontainers.image.title"]);
        output.WriteLine($"{reference}: {image.Size / 1_000_000} MB");
    }
}
