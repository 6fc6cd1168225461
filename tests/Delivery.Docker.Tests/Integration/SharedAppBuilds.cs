using System.Collections.Concurrent;
using Delivery.Core;
using Docker.DotNet;

namespace Delivery.Docker.Tests.Integration;

/// <summary>
/// The offline base image and the published fixture app, made once per test run for every collection fixture that asks
/// (the app's-images collection and the reproducibility collection run side by side and used to make both twice:
/// a <c>dotnet publish</c> and a runtime image build each). Under a prefix of its own; the last fixture to be disposed
/// removes them.
/// </summary>
sealed class SharedAppBuilds
{
    static readonly object Gate = new();
    static SharedAppBuilds? current;
    static int users;

    readonly DockerEngineClient docker = new();
    readonly Lazy<Task<string>> baseImage, publishedApp;
    readonly ConcurrentBag<string> images = [];
    readonly ConcurrentQueue<string> baseImageLog = new();

    public string Prefix { get; } = "ddt-" + Guid.NewGuid().ToString("N")[..8] + "-shared";
    public string TempRoot { get; }
    public string BaseImageRepository => Prefix + "-base";
    public RuntimeBaseImageResult? BaseImageResult { get; private set; }
    public IReadOnlyList<string> BaseImageLog => baseImageLog.ToList();

    SharedAppBuilds()
    {
        TempRoot = Path.Combine(Path.GetTempPath(), Prefix);
        Directory.CreateDirectory(TempRoot);
        // Each is made once; a failure is kept, so every test that needs it reports the same cause.
        baseImage = new(CreateBaseImageAsync);
        publishedApp = new(PublishAppAsync);
    }

    public static SharedAppBuilds Acquire()
    {
        lock (Gate)
        {
            users++;
            return current ??= new SharedAppBuilds();
        }
    }

    public static async Task ReleaseAsync()
    {
        SharedAppBuilds? last = null;
        lock (Gate)
        {
            if (--users == 0) (last, current) = (current, null);
        }
        if (last is null) return;
        if (last.baseImage.IsValueCreated || last.images.Count > 0)
        {
            var api = await last.docker.ConnectAsync();
            await DockerFixture.RemoveImagesAsync(api, last.docker, last.Prefix, last.images);
        }
        last.docker.Dispose();
        try { Directory.Delete(last.TempRoot, recursive: true); } catch (IOException) { }
    }

    public Task<string> BaseImageAsync() => baseImage.Value;

    public Task<string> PublishedAppAsync() => publishedApp.Value;

    async Task<string> CreateBaseImageAsync()
    {
        var result = await RuntimeBaseImage.EnsureAsync(docker, new RuntimeBaseImageOptions { Repository = BaseImageRepository }, baseImageLog.Enqueue);
        BaseImageResult = result;
        images.Add(result.Reference);
        return result.Reference;
    }

    string NewTempDir(string name)
    {
        var dir = Path.Combine(TempRoot, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    async Task<string> PublishAppAsync()
    {
        var source = NewTempDir("fixture-app-src");
        var output = NewTempDir("fixture-app-publish");
        await File.WriteAllTextAsync(Path.Combine(source, "FixtureApp.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <AssemblyName>WebApp</AssemblyName>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <UseAppHost>false</UseAppHost>
                <IncludeSourceRevisionInInformationalVersion>false</IncludeSourceRevisionInInformationalVersion>
              </PropertyGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(source, "Program.cs"), """
            using System.Reflection;

            if (Environment.GetEnvironmentVariable("FIXTURE_CRASH") is { Length: > 0 } reason)
            {
                Console.Error.WriteLine($"fixture: fatal: {reason}");
                return 3;
            }
            Console.Error.WriteLine("fixture: starting (stderr)");
            var version = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            var app = WebApplication.CreateBuilder(args).Build();
            app.MapGet("/", () => "fixture home");
            app.MapGet("/readyz", () => "ready");
            app.MapGet("/metrics", () => Results.Text("# TYPE fixture_up gauge\nfixture_up 1\n", "text/plain; version=0.0.4"));
            app.MapGet("/version", () => Results.Json(new { version }));
            app.Run();
            return 0;
            """);
        // The test host runs inside MSBuild's environment; a nested publish must not inherit it.
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(k => k, _ => (string?)null);
        await ProcessRunner.RunCheckedAsync("dotnet",
            ["publish", Path.Combine(source, "FixtureApp.csproj"), "-c", "Release", "-o", output, $"-p:Version={DockerFixture.AppVersion}",
             "-nodeReuse:false", "-p:UseSharedCompilation=false"],
            new ProcessOptions { WorkingDirectory = source, Environment = environment });
        return output;
    }
}
