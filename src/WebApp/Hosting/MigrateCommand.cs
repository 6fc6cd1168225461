namespace WebApp.Hosting;

/// <summary>
/// <c>dotnet WebApp.dll migrate &lt;name&gt;</c>, the release phase's command: this app keeps no schema, so applying a
/// migration is recording its name in the data store (replaced atomically), which <c>/release</c> then reports.
/// Errors are one line and a non-zero exit.
/// </summary>
public static class MigrateCommand
{
    public static int Run(IReadOnlyList<string> args, string storePath, TextWriter output, TextWriter error)
    {
        if (args is not [var name] || name.Trim().Length == 0 || name.Length > 200 || name.Any(char.IsControl))
        {
            error.WriteLine("usage: migrate <name> (one name of 1 to 200 characters, one line)");
            return 2;
        }
        if (!Directory.Exists(storePath))
        {
            error.WriteLine($"migrate: the data store {storePath} is not there (is its volume mounted?)");
            return 1;
        }
        var previous = DataStore.ReadMarker(storePath);
        var file = Path.Combine(storePath, DataStore.MarkerFile);
        var temporary = file + ".new";
        try
        {
            File.WriteAllText(temporary, name.Trim() + "\n");
            File.Move(temporary, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"migrate: cannot write {file}: {e.Message}");
            return 1;
        }
        output.WriteLine($"applied migration {name.Trim()} in {storePath} (previous: {previous ?? "none"})");
        return 0;
    }
}
