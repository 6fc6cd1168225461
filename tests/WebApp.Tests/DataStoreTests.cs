using System.Diagnostics;
using System.Text.Json;
using WebApp.Hosting;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

/// <summary>/release reports the migration marker a release phase left in the data store, read from a real directory.</summary>
public sealed class DataStoreTests
{
    static async Task<JsonElement> Release(string storePath)
    {
        await using var app = await KestrelApp.StartAsync(configure: b => b.Configuration["DataStore:Path"] = storePath);
        using var client = app.CreateClient();
        using var response = await client.GetAsync("/release");
        response.EnsureSuccessStatusCode();
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    [Fact]
    public async Task The_release_endpoint_reports_the_first_line_of_the_marker_a_release_phase_wrote()
    {
        var store = Directory.CreateTempSubdirectory("webapp-data-").FullName;
        try
        {
            var marker = $"20261206-add-users-{Guid.NewGuid():N}";
            await File.WriteAllTextAsync(Path.Combine(store, DataStore.MarkerFile), $"  {marker}  \nsecond line\n");

            var root = await Release(store);

            Assert.Equal(marker, root.GetProperty("migration").GetString());
            Assert.Equal(store, root.GetProperty("dataStore").GetString());
            Assert.True(root.GetProperty("mounted").GetBoolean());
            Assert.Equal(AppInfo.FromAssembly(typeof(AppInfo).Assembly, "x", DateTimeOffset.UnixEpoch).Version, root.GetProperty("version").GetString());
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    [Fact]
    public async Task Without_a_marker_or_a_store_the_migration_is_null()
    {
        var store = Directory.CreateTempSubdirectory("webapp-data-").FullName;
        try
        {
            var empty = await Release(store);
            Assert.Equal(JsonValueKind.Null, empty.GetProperty("migration").ValueKind);
            Assert.True(empty.GetProperty("mounted").GetBoolean());

            var absent = await Release(Path.Combine(store, "not-mounted"));
            Assert.Equal(JsonValueKind.Null, absent.GetProperty("migration").ValueKind);
            Assert.False(absent.GetProperty("mounted").GetBoolean());
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    /// <summary>The built app as the release phase runs it: <c>dotnet WebApp.dll migrate …</c>, a real process.</summary>
    static async Task<(int Exit, string Output, string Error)> Migrate(string storePath, params string[] args)
    {
        var dotnet = Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(RepositoryPaths.BuiltWebAppDll);
        start.ArgumentList.Add("migrate");
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DataStore__Path"] = storePath;
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(guard.Token);
        return (process.ExitCode, (await output).Trim(), (await error).Trim());
    }

    [Fact]
    public async Task The_migrate_command_records_the_migration_that_the_release_endpoint_then_reports()
    {
        var store = Directory.CreateTempSubdirectory("webapp-data-").FullName;
        try
        {
            Assert.Equal((0, $"applied migration 20261206-add-users in {store} (previous: none)", ""), await Migrate(store, "20261206-add-users"));
            Assert.Equal((0, $"applied migration 20261207-index in {store} (previous: 20261206-add-users)", ""), await Migrate(store, "20261207-index"));

            Assert.Equal("20261207-index", (await Release(store)).GetProperty("migration").GetString());
            Assert.Equal(["migration"], Directory.GetFiles(store).Select(Path.GetFileName));

            var usage = await Migrate(store);
            Assert.Equal((2, "", "usage: migrate <name> (one name of 1 to 200 characters, one line)"), usage);
            var unmounted = await Migrate(Path.Combine(store, "absent"), "x");
            Assert.Equal((1, "", $"migrate: the data store {Path.Combine(store, "absent")} is not there (is its volume mounted?)"), unmounted);
            Assert.Equal("20261207-index", (await Release(store)).GetProperty("migration").GetString());
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }
}
