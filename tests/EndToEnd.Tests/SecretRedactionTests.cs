using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// --registry-password is a secret: its value must never be printed. Where nothing would print it anyway, the tests
/// pick a value that the build does print (a file name in an error message), so a missing redaction shows.
/// Runs in the clone, which has no artifacts/: Push fails before it talks to Docker or a registry.
/// </summary>
[Collection(CloneCollection.Name)]
public sealed class SecretRedactionTests(CloneFixture clone) : CloneTests(clone)
{
    const string Secret = "s3cr3t-value";

    public enum Source { CommandLine, EnvironmentVariable, ParametersFile }

    async Task<BuildRun> BuildWithSecretAsync(Source source, string secret, params string[] arguments)
    {
        switch (source)
        {
            case Source.CommandLine:
                return await Clone.BuildAsync([.. arguments, "--registry-password", secret]);
            case Source.EnvironmentVariable:
                return await Clone.BuildAsync(new Dictionary<string, string?> { ["REGISTRY_PASSWORD"] = secret }, arguments);
            default:
                await File.WriteAllTextAsync(Path.Combine(Root, ".nuke", "parameters.json"),
                    $"{{ \"$schema\": \"./build.schema.json\", \"RegistryPassword\": \"{secret}\" }}");
                return await Clone.BuildAsync(arguments);
        }
    }

    [Theory]
    [InlineData(Source.CommandLine)]
    [InlineData(Source.EnvironmentVariable)]
    [InlineData(Source.ParametersFile)]
    public async Task A_verbose_successful_run_never_prints_the_secret(Source source)
    {
        var run = await BuildWithSecretAsync(source, Secret, "Version", "--verbose");

        BuildAssert.Succeeded(run);
        Assert.StartsWith("Version: ", run.SummaryNote("Version"));
        BuildAssert.DoesNotContain(run, Secret);
    }

    [Theory]
    [InlineData(Source.CommandLine)]
    [InlineData(Source.EnvironmentVariable)]
    [InlineData(Source.ParametersFile)]
    public async Task A_usage_error_that_echoes_the_secret_shows_stars(Source source)
    {
        // The same text given to an int parameter: its error message quotes the value.
        var run = await BuildWithSecretAsync(source, Secret, "Version", "--lines", Secret);

        Assert.Equal("Parameter --lines: '***' is not a valid int", BuildAssert.UsageError(run));
        BuildAssert.DoesNotContain(run, Secret);
    }

    [Theory]
    [InlineData(Source.CommandLine)]
    [InlineData(Source.EnvironmentVariable)]
    [InlineData(Source.ParametersFile)]
    public async Task A_failing_target_whose_message_contains_the_secret_shows_stars(Source source)
    {
        // Push --skip without artifacts fails with "artifacts/image-build.json does not exist: …".
        const string printed = "image-build.json";
        Assert.False(File.Exists(Path.Combine(Root, "artifacts", printed)));

        var run = await BuildWithSecretAsync(source, printed, "Push", "--skip", "--registry", "127.0.0.1:1");

        var message = BuildAssert.TargetFailure(run, "Push");
        Assert.Equal("artifacts/*** does not exist: run ./build.sh DockerBuild first", message);
        Assert.Equal(message, run.SummaryNote("Push"));
        BuildAssert.DoesNotContain(run, printed);
    }

    [Fact]
    public async Task The_stack_trace_printed_with_verbose_is_redacted_too()
    {
        const string printed = "image-build.json";

        var run = await Clone.BuildAsync("Push", "--skip", "--registry", "127.0.0.1:1", "--registry-password", printed, "--verbose");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(run.Lines, l => l.Contains("Exception: artifacts/*** does not exist", StringComparison.Ordinal));
        Assert.Contains(run.Lines, l => l.StartsWith("   at ", StringComparison.Ordinal));
        BuildAssert.DoesNotContain(run, printed);
    }

    [Fact]
    public async Task A_secret_that_starts_with_a_dash_is_redacted_in_usage_errors()
    {
        const string dashed = "-s3cr3t-value";

        var run = await Clone.BuildAsync("Version", "--lines", dashed, "--registry-password", dashed);

        Assert.Equal("Parameter --lines: '***' is not a valid int", BuildAssert.UsageError(run));
        BuildAssert.DoesNotContain(run, dashed);
    }
}
