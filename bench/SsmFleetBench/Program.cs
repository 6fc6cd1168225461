using System.Diagnostics;
using Amazon.Runtime;
using Aws.TestEndpoint;
using Delivery.Aws;
using Delivery.Hosts;
using TestSupport;

// Wall time of fleet deploys through SSM (the AWS test endpoint runs each command on its fake instance) against the
// local host's deploy, in one run. Each timed deploy is a real switch (the versions alternate).
var run = Tools.NewRunId();
var work = Directory.CreateTempSubdirectory($"bssm{run}-").FullName;
await using var endpoint = await AwsTestEndpoint.StartAsync();
endpoint.InvocationNotVisibleFor = 0;
await using var registry = await TestRegistry.StartAsync();
var versions = new[]
{
    await TestImages.BuildAndPushAsync(registry.Address, "bench-fleet", "1.0.0", ImageBehaviour.Healthy),
    await TestImages.BuildAndPushAsync(registry.Address, "bench-fleet", "1.1.0", ImageBehaviour.Healthy),
};
var staging = DeployEnvironment.Staging with { DrainTimeout = TimeSpan.FromSeconds(2), StopTimeout = TimeSpan.FromSeconds(5), Memory = "64m", Cpus = "0.5" };
var options = new DeployOptions { DeployedBy = "bench" };
var hosts = new List<HostSettings>();

HostSettings Host(string name, int number)
{
    var settings = new HostSettings
    {
        StateRoot = Path.Combine(work, name, "state"), AppName = $"bssm{run}-{number}", PublicBindAddress = "127.0.0.1",
        PrivatePortFirst = 23000 + number * 100, PrivatePortLast = 23099 + number * 100,
    };
    hosts.Add(settings);
    return settings;
}

var local = new Deployer(new LocalHost(), Host("local", 0));
var localEnv = staging with { PublicPort = Tools.FreePort() };
var ids = new List<string>();
for (var i = 1; i <= 4; i++)
{
    var id = $"i-0b{run}{i:D9}";
    var settings = Host(id, i);
    Directory.CreateDirectory(Path.Combine(work, id));
    var config = Path.Combine(work, id, "host.env");
    File.WriteAllText(config, $"state_root={settings.StateRoot}\napp={settings.AppName}\nstaging_port={Tools.FreePort()}\npublic_bind=127.0.0.1\n");
    endpoint.AddInstance(id).Environment["WEBAPP_HOST_CONFIG"] = config;
    ids.Add(id);
}
using var ssm = new SsmClient(new AwsSettings
{
    Region = endpoint.Region, Credentials = new BasicAWSCredentials(AwsTestEndpoint.AccessKey, AwsTestEndpoint.SecretKey), SsmEndpoint = endpoint.Url,
});
var fleetOptions = new FleetOptions { PollInterval = TimeSpan.FromMilliseconds(250) };
var running = new int[ids.Count]; // which of the two versions each instance serves

Task Fleet(IEnumerable<int> instances, string k, int version) =>
    new Deployer(new SsmFleetSite(ssm, SsmTargets.Instances([.. instances.Select(i => ids[i])]), fleetOptions with { MaxConcurrency = k }, "webapp"),
        new HostSettings()).DeployAsync(staging, versions[version], options);

// A timed fleet deploy of N instances, every one of which switches: first (untimed) the ones already on the target
// version move off it.
async Task<double> TimedFleet(int n, int k)
{
    var target = 1 - running[0];
    var aligned = Enumerable.Range(0, n).Where(i => running[i] == target).ToList();
    if (aligned.Count > 0) await Fleet(aligned, "50", 1 - target);
    var watch = Stopwatch.StartNew();
    await Fleet(Enumerable.Range(0, n), k.ToString(), target);
    var elapsed = watch.Elapsed.TotalSeconds;
    for (var i = 0; i < n; i++) running[i] = target;
    return elapsed;
}

try
{
    // Warm-up: every host has pulled both images and serves version 1.
    foreach (var v in new[] { 0, 1 })
    {
        await local.DeployAsync(localEnv, versions[v], options);
        await Fleet(Enumerable.Range(0, ids.Count), "4", v);
    }
    Array.Fill(running, 1);

    var watch = Stopwatch.StartNew();
    await local.DeployAsync(localEnv, versions[0], options);
    var tLocal = watch.Elapsed.TotalSeconds;
    var t1 = await TimedFleet(1, 1);
    Console.WriteLine($"local host deploy:         {tLocal,6:0.00} s");
    Console.WriteLine($"SSM, 1 instance:           {t1,6:0.00} s   ratio to local {t1 / tLocal:0.00}");
    foreach (var (n, k) in new[] { (2, 1), (2, 2), (4, 1), (4, 2) })
    {
        var t = await TimedFleet(n, k);
        var expected = Math.Ceiling(n / (double)k) * t1;
        Console.WriteLine($"SSM, {n} instances, k={k}:   {t,6:0.00} s   ratio to ceil(N/k) x 1-instance ({expected:0.00} s) {t / expected:0.00}");
    }
}
finally
{
    foreach (var settings in hosts)
    {
        try { await new Deployer(new LocalHost(), settings).TeardownAllAsync(options with { LockWait = TimeSpan.FromSeconds(30) }); }
        catch (Delivery.Core.DeliveryException) { }
    }
    Directory.Delete(work, recursive: true);
}
