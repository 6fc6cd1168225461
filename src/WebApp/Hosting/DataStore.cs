namespace WebApp.Hosting;

/// <summary>
/// The environment's data store as this release sees it: a directory the host mounts (a volume shared with the
/// release phase, default <c>/data</c>). A release phase records the migration it applied in <c>migration</c> there;
/// <c>/release</c> reports it, so an operator can see which migration the serving release reads.
/// </summary>
public sealed class DataStoreOptions
{
    public const string Section = "DataStore";

    public string Path { get; set; } = "/data";

    /// <summary>As the app binds it, from the environment (<c>DataStore__Path</c>), for commands that start no host.</summary>
    public static DataStoreOptions FromEnvironment()
    {
        var options = new DataStoreOptions();
        new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection(Section).Bind(options);
        return options;
    }
}

public static class DataStore
{
    public const string MarkerFile = "migration";
    const int MaxMarkerLength = 200;

    /// <summary>The marker's first line, trimmed and at most 200 characters; null when the store or the file is absent.</summary>
    public static string? ReadMarker(string storePath)
    {
        var file = System.IO.Path.Combine(storePath, MarkerFile);
        try
        {
            using var reader = new StreamReader(file);
            var line = reader.ReadLine()?.Trim() ?? "";
            return line.Length > MaxMarkerLength ? line[..MaxMarkerLength] : line;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public sealed record ReleaseDocument(
        [property: System.Text.Json.Serialization.JsonPropertyName("version")] string Version,
        [property: System.Text.Json.Serialization.JsonPropertyName("dataStore")] string DataStore,
        [property: System.Text.Json.Serialization.JsonPropertyName("mounted")] bool Mounted,
        [property: System.Text.Json.Serialization.JsonPropertyName("migration")] string? Migration);
}
