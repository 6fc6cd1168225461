using Delivery.Core;

namespace Delivery.Versioning.Tests;

/// <summary>A real git repository in a temp dir, configured so the machine's git config can't change results.</summary>
sealed class TempGitRepository : IDisposable
{
    static readonly IReadOnlyDictionary<string, string?> IsolatedEnvironment = new Dictionary<string, string?>
    {
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        ["LC_ALL"] = "C",
    };

    readonly List<string> ownedDirectories = [];

    TempGitRepository(string path)
    {
        Path = path;
        ownedDirectories.Add(path);
    }

    public string Path { get; }

    public static string NewTempDirectory()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "versioning-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static async Task<TempGitRepository> InitAsync()
    {
        var repository = new TempGitRepository(NewTempDirectory());
        await repository.GitAsync("-c", "init.defaultBranch=main", "init", "--quiet");
        await repository.ConfigureAsync();
        return repository;
    }

    /// <summary>A bare repository to act as 'origin'.</summary>
    public static async Task<TempGitRepository> InitBareAsync()
    {
        var repository = new TempGitRepository(NewTempDirectory());
        await repository.GitAsync("-c", "init.defaultBranch=main", "init", "--quiet", "--bare");
        return repository;
    }

    public static async Task<TempGitRepository> CloneAsync(string source, params string[] extraArguments)
    {
        var path = NewTempDirectory();
        await RunGitAsync(System.IO.Path.GetTempPath(), ["clone", "--quiet", .. extraArguments, source, path]);
        var repository = new TempGitRepository(path);
        await repository.ConfigureAsync();
        return repository;
    }

    async Task ConfigureAsync()
    {
        await GitAsync("config", "user.name", "Test Maintainer");
        await GitAsync("config", "user.email", "maintainer@example.test");
        await GitAsync("config", "commit.gpgsign", "false");
        await GitAsync("config", "tag.gpgsign", "false");
    }

    public Task<string> GitAsync(params string[] arguments) => RunGitAsync(Path, arguments);

    public async Task<ProcessResult> TryGitAsync(params string[] arguments) =>
        await ProcessRunner.RunAsync("git", arguments, new ProcessOptions { WorkingDirectory = Path, Environment = IsolatedEnvironment });

    static async Task<string> RunGitAsync(string directory, string[] arguments)
    {
        var result = await ProcessRunner.RunCheckedAsync("git", arguments,
            new ProcessOptions { WorkingDirectory = directory, Environment = IsolatedEnvironment });
        return result.StandardOutput.Trim();
    }

    /// <summary>Commits (writing a file first when given one) and returns the new commit's sha.</summary>
    public async Task<string> CommitAsync(string message, string? file = null, string? content = null)
    {
        if (file is not null)
        {
            await WriteAsync(file, content ?? message + "\n");
            await GitAsync("add", "--", file);
        }
        await GitAsync("commit", "--quiet", "--allow-empty", "--message", message);
        return await HeadAsync();
    }

    public async Task<IReadOnlyList<string>> CommitsAsync(int count, string prefix = "commit")
    {
        var shas = new List<string>();
        for (var i = 1; i <= count; i++) shas.Add(await CommitAsync($"{prefix} {i}"));
        return shas;
    }

    public Task<string> HeadAsync() => GitAsync("rev-parse", "HEAD");

    public Task TagAsync(string name, string? target = null) =>
        GitAsync(["tag", name, .. target is null ? Array.Empty<string>() : [target]]);

    public Task AnnotatedTagAsync(string name, string? target = null) =>
        GitAsync(["tag", "--annotate", "--message", $"Tag {name}", name, .. target is null ? Array.Empty<string>() : [target]]);

    public Task WriteAsync(string file, string content)
    {
        var full = System.IO.Path.Combine(Path, file);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return File.WriteAllTextAsync(full, content);
    }

    public Task<string> ReadAsync(string file) => File.ReadAllTextAsync(System.IO.Path.Combine(Path, file));

    public void Dispose()
    {
        foreach (var directory in ownedDirectories)
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }
}
