using System.Text.Json;
using Delivery.Core;

namespace EndToEnd.Tests.Infrastructure;

/// <summary>
/// One <c>./build.sh ExportImage --registry &lt;a test registry&gt; --base-image offline</c> in the image clone, made by
/// whichever test asks first and shared by the tests that check what it wrote: the SBOM and its image label
/// (<see cref="SbomTests"/>), and the archive that the push job loads and pushes (<see cref="ImageHandoffTests"/>).
/// Each used to run its own cold Publish and DockerBuild of the app, the same build twice. Its artifacts are kept
/// here, since every test starts from a clean clone; the registry and the built image last as long as the collection.
/// </summary>
public sealed class ExportedImage : IAsyncLifetime
{
    readonly SemaphoreSlim gate = new(1, 1);
    string? saved;
    IReadOnlyList<string> references = [];

    TestRegistry? registry;

    public TestRegistry Registry => registry!;
    public BuildRun Run { get; private set; } = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Builds once, then puts the build's artifacts/ into the clone (reset by the test that asks).</summary>
    public async Task<ExportedImage> InAsync(CloneFixture clone)
    {
        await gate.WaitAsync();
        try
        {
            if (saved is null)
            {
                registry ??= await TestRegistry.StartAsync();
                // A cold Release publish and image build of the app, like a clone's first build: it gets that build's limit.
                Run = await BuildScript.RunAsync(clone.Root, ["ExportImage", "--registry", Registry.Address, "--base-image", "offline"],
                    limit: BuildScript.FirstBuildTimeout);
                BuildAssert.Succeeded(Run);
                var record = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(clone.Root, "artifacts", "image-build.json"))).RootElement;
                var repository = record.GetProperty("repository").GetString()!;
                references = record.GetProperty("tags").EnumerateArray().Select(t => $"{repository}:{t.GetString()}").ToList();
                var directory = Repository.NewTempDirectory("exported-image");
                Copy(Path.Combine(clone.Root, "artifacts"), directory);
                saved = directory;
            }
            Copy(saved, Path.Combine(clone.Root, "artifacts"));
            return this;
        }
        finally { gate.Release(); }
    }

    static void Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var reference in references) await ProcessRunner.RunAsync("docker", ["rmi", reference]);
        if (saved is not null) Repository.DeleteDirectory(saved);
        if (registry is not null) await registry.DisposeAsync();
    }
}
