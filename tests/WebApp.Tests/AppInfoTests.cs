using System.Net.Http.Json;
using System.Text.Json;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

public sealed class AppInfoTests(WebAppFactory factory) : IClassFixture<WebAppFactory>
{
    [Theory]
    [InlineData("1.4.0+3f2a9c1", "1.4.0")]
    [InlineData("1.4.0-rc.2+3f2a9c1.dirty", "1.4.0-rc.2")]
    [InlineData("2.0.0", "2.0.0")]
    [InlineData(" 2.0.1 ", "2.0.1")]
    [InlineData("", "0.0.0")]
    [InlineData(null, "0.0.0")]
    public void Version_is_the_informational_version_without_build_metadata(string? informationalVersion, string expected) =>
        Assert.Equal(expected, AppInfo.VersionFrom(informationalVersion));

    [Theory]
    [InlineData("3f2a9c1d0e5b6a7f8091a2b3c4d5e6f708192a3b", "3f2a9c1")]
    [InlineData("3f2a9c1", "3f2a9c1")]
    [InlineData("abc", "abc")]
    [InlineData("", "unknown")]
    [InlineData("   ", "unknown")]
    [InlineData(null, "unknown")]
    public void Commit_is_the_first_seven_characters_of_the_source_revision(string? sourceRevisionId, string expected) =>
        Assert.Equal(expected, AppInfo.ShortCommitFrom(sourceRevisionId));

    [Fact]
    public void Start_time_is_kept_in_utc_and_shown_as_iso_8601()
    {
        var info = AppInfo.Create("1.0.0", null, "Production", new DateTimeOffset(2025, 3, 4, 7, 8, 9, TimeSpan.FromHours(2)));

        Assert.Equal(TimeSpan.Zero, info.StartedAt.Offset);
        Assert.Equal("2025-03-04T05:08:09Z", info.StartedAtIso);
    }

    [Fact]
    public void Reads_what_the_build_stamped_into_the_web_app_assembly()
    {
        var assembly = typeof(AppInfo).Assembly;
        var informational = assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;

        var info = AppInfo.FromAssembly(assembly, "Staging", DateTimeOffset.UnixEpoch);

        Assert.Equal(AppInfo.VersionFrom(informational), info.Version);
        Assert.DoesNotContain('+', info.Version);
        Assert.Equal("Staging", info.Environment);
    }

    [Fact]
    public async Task Version_endpoint_returns_version_commit_environment_and_start_time()
    {
        using var response = await factory.CreateClient().GetAsync("/version");
        response.EnsureSuccessStatusCode();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        var info = factory.Services.GetRequiredService<AppInfo>();

        Assert.Equal(["commit", "environment", "startedAt", "version"], root.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(info.Version, root.GetProperty("version").GetString());
        Assert.Equal(info.Commit, root.GetProperty("commit").GetString());
        Assert.Equal(WebAppFactory.Environment, root.GetProperty("environment").GetString());
        var startedAt = root.GetProperty("startedAt").GetString()!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", startedAt);
        Assert.Equal(info.StartedAt.ToUnixTimeSeconds(), DateTimeOffset.Parse(startedAt, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds());
    }
}
