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
}
