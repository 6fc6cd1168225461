using Docker.DotNet.Models;
using Delivery.Core;

namespace Delivery.Docker.Tests.Integration;

[Collection(DockerRegistryCollection.Name)]
public sealed class BuildTests(DockerFixture fixture)
{
    [Fact]
    public async Task Builds_from_a_tar_context_with_tags_labels_build_args_and_dockerignore()
    {
        var shell = await fixture.ShellImageAsync();
        var dir = fixture.NewTempDir("build-ok");
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        await File.WriteAllTextAsync(Path.Combine(dir, "data", "kept.txt"), "kept");
        await File.WriteAllTextAsync(Path.Combine(dir, "data", "scratch.tmp"), "ignored");
        await File.WriteAllTextAsync(Path.Combine(dir, "secret.txt"), "ignored");
        await File.WriteAllTextAsync(Path.Combine(dir, ".dockerignore"), "secret.txt\ndata/*.tmp\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "Dockerfile"), $"""
            FROM {shell}
            ARG GREETING=unset
            RUN echo "greeting is $GREETING" > /greeting.txt
            COPY . /ctx/
            LABEL fixture.greeting="$GREETING"
            """);
        var tags = new[] { fixture.Name("built") + ":1.0.0", fixture.Name("built") + ":sha-abc1234" };
        foreach (var tag in tags) fixture.Track(tag);
        var output = new List<string>();

        using var context = BuildContext.FromDirectory(dir);
        var id = await fixture.Docker.BuildImageAsync(context, new ImageBuildParameters
        {
            Tags = tags.ToList(),
            BuildArgs = new Dictionary<string, string> { ["GREETING"] = "hello " + fixture.Prefix },
            Labels = new Dictionary<string, string>(fixture.Labels) { ["org.opencontainers.image.version"] = "1.0.0" },
        }, output.Add);

        var image = await fixture.Docker.InspectImageAsync(tags[0]);
        Assert.NotNull(image);
        Assert.Equal(id, image.ID);
        Assert.StartsWith("sha256:", id);
        Assert.Equal(tags.Order(), image.RepoTags!.Order());
        Assert.Equal("1.0.0", image.Config!.Labels["org.opencontainers.image.version"]);
        Assert.Equal("hello " + fixture.Prefix, image.Config!.Labels["fixture.greeting"]);
        Assert.Contains(output, l => l.StartsWith("Step 2/", StringComparison.Ordinal) && l.EndsWith(" : ARG GREETING=unset", StringComparison.Ordinal));

        var (exit, lines) = await fixture.RunToCompletionAsync(tags[1], "sh", "-c", "cat /greeting.txt; ls -a /ctx /ctx/data");
        var text = lines.Select(l => l.Text).ToList();
        Assert.Equal(0, exit);
        Assert.Contains("greeting is hello " + fixture.Prefix, text);
        Assert.Contains("kept.txt", text);
        Assert.DoesNotContain("scratch.tmp", text);
        Assert.DoesNotContain("secret.txt", text);
        Assert.DoesNotContain("Dockerfile", text);
        Assert.DoesNotContain(".dockerignore", text);
    }

    [Fact]
    public async Task A_Dockerfile_outside_the_context_is_sent_but_not_copied()
    {
        var shell = await fixture.ShellImageAsync();
        var context = fixture.NewTempDir("outside-context");
        await File.WriteAllTextAsync(Path.Combine(context, "app.dll"), "not really");
        var dockerfile = Path.Combine(fixture.NewTempDir("outside-dockerfile"), "Dockerfile.app");
        await File.WriteAllTextAsync(dockerfile, $"FROM {shell}\nCOPY . /app/\n");
        var tag = fixture.Name("outside") + ":1";
        fixture.Track(tag);

        using var tar = BuildContext.FromDirectory(context, dockerfile);
        await fixture.Docker.BuildImageAsync(tar, new ImageBuildParameters { Tags = [tag], Labels = fixture.Labels.ToDictionary() });
        var (_, lines) = await fixture.RunToCompletionAsync(tag, "ls", "-a", "/app");

        Assert.Equal(["app.dll"], lines.Select(l => l.Text).Where(t => !t.StartsWith('.')).ToList());
        Assert.DoesNotContain(lines, l => l.Text == ".dockerignore");
    }

    [Fact]
    public async Task A_failing_RUN_step_names_the_step_and_error_and_keeps_its_output()
    {
        var shell = await fixture.ShellImageAsync();
        var dir = fixture.NewTempDir("build-fail");
        await File.WriteAllTextAsync(Path.Combine(dir, "Dockerfile"), $"""
            FROM {shell}
            RUN echo first step is fine
            RUN echo compiling widget && echo "widget.c:3: error: boom" >&2 && exit 7
            RUN echo never reached
            """);
        var output = new List<string>();

        using var context = BuildContext.FromDirectory(dir);
        var error = await Assert.ThrowsAsync<DockerBuildException>(() =>
            fixture.Docker.BuildImageAsync(context, new ImageBuildParameters { Labels = fixture.Labels.ToDictionary() }, output.Add));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Matches(@"^Docker build failed at step 3/\d+ \(RUN echo compiling widget && ", error.Message);
        Assert.Contains("returned a non-zero code: 7", error.Message);
        Assert.Contains("compiling widget", error.OutputTail);
        Assert.Contains("widget.c:3: error: boom", error.OutputTail);
        Assert.DoesNotContain("first step is fine", error.OutputTail);
        Assert.Contains("widget.c:3: error: boom", output);
        Assert.DoesNotContain(output, l => l.Contains("never reached", StringComparison.Ordinal) && !l.StartsWith("Step", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_COPY_step_names_the_missing_file()
    {
        var shell = await fixture.ShellImageAsync();
        var dir = fixture.NewTempDir("copy-fail");
        await File.WriteAllTextAsync(Path.Combine(dir, "Dockerfile"), $"FROM {shell}\nCOPY missing.txt /\n");

        using var context = BuildContext.FromDirectory(dir);
        var error = await Assert.ThrowsAsync<DockerBuildException>(() =>
            fixture.Docker.BuildImageAsync(context, new ImageBuildParameters { Labels = fixture.Labels.ToDictionary() }));

        Assert.Matches(@"^step 2/\d+ \(COPY missing.txt /\)$", error.FailedStep);
        Assert.Contains("missing.txt", error.EngineError);
        Assert.StartsWith($"Docker build failed at {error.FailedStep}: COPY failed", error.Message);
    }

    [Fact]
    public async Task Tagging_adds_a_reference_to_the_same_image()
    {
        var shell = await fixture.ShellImageAsync();
        var repository = fixture.Name("retagged");
        fixture.Track(repository + ":again");

        await fixture.TagAsync(shell, repository, "again");

        var original = await fixture.Docker.InspectImageAsync(shell);
        var tagged = await fixture.Docker.InspectImageAsync(repository + ":again");
        Assert.Equal(original!.ID, tagged!.ID);
        Assert.True(await fixture.RemoveImageAsync(repository + ":again"));
        Assert.NotNull(await fixture.Docker.InspectImageAsync(shell));
    }
}
