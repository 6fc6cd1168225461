using Aws.TestEndpoint;
using Delivery.Hosts;

namespace EndToEnd.Tests.Infrastructure;

/// <summary>
/// Fake EC2 instances behind the AWS test endpoint. Each is its own host as far as a deploy can tell: its host
/// configuration file (what ConfigureHost writes on an instance) gives it its own state root, so its own lock,
/// history and proxy, its own app prefix for containers, and its own public ports on 127.0.0.1. Commands sent to it
/// run for real with bash on this machine, with WEBAPP_HOST_CONFIG pointing at that file.
/// </summary>
public sealed class FleetFixture : IAsyncLifetime
{
    public sealed record Instance(string Id, FakeInstance Fake, string Root, string App, int StagingPort, int ProductionPort);

    string directory = "";
    public string RunId { get; } = Tools.NewRunId();
    public AwsTestEndpoint Endpoint { get; private set; } = null!;
    public TestRegistry Registry { get; private set; } = null!;
    public List<Instance> Instances { get; } = [];
    public PinnedImage V1 { get; private set; } = null!;
    public PinnedImage V2 { get; private set; } = null!;
    /// <summary>Never answers its health check: a deploy of it runs until a timeout.</summary>
    public PinnedImage Broken { get; private set; } = null!;
    /// <summary>Exits at start: the health gate rejects it at once.</summary>
    public PinnedImage Crashing { get; private set; } = null!;
    /// <summary>Serves its page and metrics under /cgi-bin (<see cref="TestImages.MetricsPath"/>), for the bake.</summary>
    public PinnedImage Metered { get; private set; } = null!;
    /// <summary>Ready, but its page answers 500 on 30% of requests.</summary>
    public PinnedImage Serves5xx { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        directory = Directory.CreateTempSubdirectory($"e2ef{RunId}-").FullName;
        Endpoint = await AwsTestEndpoint.StartAsync();
        Endpoint.InvocationNotVisibleFor = 1;
        Registry = await TestRegistry.StartAsync();
        V1 = await TestImages.BuildAndPushAsync(Registry.Address, "e2e-fleet", "1.0.0", ImageBehaviour.Healthy);
        V2 = await TestImages.BuildAndPushAsync(Registry.Address, "e2e-fleet", "1.1.0", ImageBehaviour.Healthy);
        Broken = await TestImages.BuildAndPushAsync(Registry.Address, "e2e-fleet", "1.2.0", ImageBehaviour.NeverReady);
        Crashing = await TestImages.BuildAndPushAsync(Registry.Address, "e2e-fleet", "1.3.0", ImageBehaviour.ExitsAtStart);
        Metered = await TestImages.BuildAndPushAsync(Registry.Address, "e2e-fleet", "2.0.0", ImageBehaviour.Metered);
        Serves5xx = await TestImages.BuildAndPushAsync(Registry.Address, "e2e-fleet", "2.1.0", ImageBehaviour.Serves5xx);
        for (var i = 1; i <= 4; i++) Instances.Add(AddInstance(i));
    }

    /// <summary>More instances, tagged Role=e2e-&lt;run&gt;-<paramref name="role"/> (a test's own fleet); returns the tag.</summary>
    public string AddInstances(string role, int count)
    {
        var tag = $"e2e-{RunId}-{role}";
        lock (Instances)
            for (var i = 0; i < count; i++)
            {
                var instance = AddInstance(Instances.Count + 1);
                instance.Fake.Tags["Role"] = tag;
                Instances.Add(instance);
            }
        return $"tag:Role={tag}";
    }

    public Instance AddInstance(int number)
    {
        var id = $"i-0e2e{RunId}{number:D7}";
        var root = Path.Combine(directory, $"i{number}");
        Directory.CreateDirectory(root);
        var instance = new Instance(id, Endpoint.AddInstance(id), Path.Combine(root, "state"), $"e2ef{RunId}-{number}", Tools.FreePort(), Tools.FreePort());
        var config = Path.Combine(root, "host.env");
        File.WriteAllText(config, $"""
            state_root={instance.Root}
            app={instance.App}
            staging_port={instance.StagingPort}
            production_port={instance.ProductionPort}
            public_bind=127.0.0.1

            """);
        instance.Fake.Environment["WEBAPP_HOST_CONFIG"] = config;
        instance.Fake.Tags["Role"] = number <= 3 ? $"e2e-{RunId}" : $"e2e-{RunId}-solo";
        return instance;
    }

    public string Tag => $"tag:Role=e2e-{RunId}";

    public async Task<string> VersionAsync(int port)
    {
        var (status, body) = await Tools.Get($"http://127.0.0.1:{port}/version");
        return status == 200 ? body : $"HTTP {status}";
    }

    /// <summary>The build's environment for an SSM deploy: temporary AWS credentials and the endpoint.</summary>
    public Dictionary<string, string?> AwsEnvironment(string? secretKey = null) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = AwsTestEndpoint.TemporaryAccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = secretKey ?? AwsTestEndpoint.TemporarySecretKey,
        ["AWS_SESSION_TOKEN"] = AwsTestEndpoint.SessionToken,
        ["AWS_PROFILE"] = null,
        ["AWS_ENDPOINT_URL"] = null,
        ["AWS_ENDPOINT_URL_ECR"] = null,
        ["AWS_ENDPOINT_URL_SSM"] = Endpoint.Url.ToString(),
        ["AWS_REGION"] = Endpoint.Region,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    public async Task DisposeAsync()
    {
        foreach (var instance in Instances)
        {
            var settings = new HostSettings { StateRoot = instance.Root, AppName = instance.App };
            try { await new Deployer(new LocalHost(), settings).TeardownAllAsync(new DeployOptions { DeployedBy = "e2e", LockWait = TimeSpan.FromSeconds(30) }); }
            catch (Delivery.Core.DeliveryException) { }
            var docker = Tools.Require("docker", "docker.io");
            var leftovers = await Tools.Run(docker, "ps", "--all", "--quiet", "--filter", $"label=webapp.app={instance.App}");
            foreach (var id in leftovers.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                await Tools.Run(docker, "rm", "--force", id.Trim());
            var volumes = await Tools.Run(docker, "volume", "ls", "--quiet", "--filter", $"label=webapp.app={instance.App}");
            foreach (var volume in volumes.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                await Tools.Run(docker, "volume", "rm", "--force", volume.Trim());
        }
        await Endpoint.DisposeAsync();
        await Registry.DisposeAsync();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
