using BuildGraph;
using Delivery.Aws;
using Delivery.Hosts;

/// <summary>Where each environment runs: one record of settings per environment, turned into its site by the library.</summary>
partial class Build
{
    static readonly FleetOptions FleetDefaults = new();

    [Parameter("SSM targets of staging: instance ids (i-0abc…,i-0def…) or tag:Key=Value; unset or 'local' = this machine (a CI build must say 'local')")]
    readonly string? StagingTargets;

    [Parameter("SSM targets of production: instance ids or tag:Key=Value; unset or 'local' = this machine (a CI build must say 'local')")]
    readonly string? ProductionTargets;

    [Parameter("AWS region of the SSM targets, Parameter Store and ECR (AWS_REGION)")]
    readonly string? AwsRegion;

    [Parameter("AWS region of staging's targets, when it differs from --aws-region")]
    readonly string? StagingRegion;

    [Parameter("AWS region of production's targets, when it differs from --aws-region")]
    readonly string? ProductionRegion;

    [Parameter("AWS API endpoint for every service (AWS_ENDPOINT_URL); AWS_ENDPOINT_URL_SSM / _ECR override it per service")]
    readonly string? AwsEndpointUrl;

    [Parameter("SSM endpoint of staging's region, when it differs (a VPC endpoint, or a test endpoint)")]
    readonly string? StagingEndpointUrl;

    [Parameter("SSM endpoint of production's region, when it differs (a VPC endpoint, or a test endpoint)")]
    readonly string? ProductionEndpointUrl;

    [Parameter("SSM: instances an operation runs on at once (a number or a percentage)")]
    readonly string MaxConcurrency = FleetDefaults.MaxConcurrency;

    [Parameter("SSM: failed instances tolerated before the roll stops (0 = stop at the first)")]
    readonly string MaxErrors = FleetDefaults.MaxErrors;

    [Parameter("SSM: how long a host script may run on an instance (AWS-RunShellScript executionTimeout; 900, 90s, 15m)")]
    readonly TimeSpan ExecutionTimeout = TimeSpan.FromSeconds(FleetDefaults.ExecutionTimeoutSeconds);

    [Parameter("SSM: how long SSM may take to deliver the command to an instance (SendCommand TimeoutSeconds)")]
    readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(FleetDefaults.DeliveryTimeoutSeconds);

    [Parameter("SSM: S3 bucket that keeps the full command output (optional)")]
    readonly string? SsmOutputBucket;

    [Parameter("SSM: CloudWatch Logs group that keeps the full command output (optional)")]
    readonly string? SsmLogGroup;

    EnvironmentSettings SettingsOf(DeployEnvironment environment) => environment.Name == DeployEnvironment.Production.Name
        ? new(environment, ProductionTargets, ProductionRegion ?? AwsRegion, ProductionEndpointUrl)
        : new(environment, StagingTargets, StagingRegion ?? AwsRegion, StagingEndpointUrl);

    [Parameter("SSM: roll the online instances and name the offline ones (ConnectionLost, unmanaged) in the table and the release record, instead of stopping")]
    readonly bool SkipOffline;

    FleetOptions FleetOptions => new()
    {
        MaxConcurrency = MaxConcurrency,
        SkipOffline = SkipOffline,
        MaxErrors = MaxErrors,
        ExecutionTimeoutSeconds = (int)Math.Ceiling(ExecutionTimeout.TotalSeconds),
        DeliveryTimeoutSeconds = (int)Math.Ceiling(DeliveryTimeout.TotalSeconds),
        OutputS3BucketName = SsmOutputBucket,
        CloudWatchLogGroupName = SsmLogGroup,
        PollInterval = TimeSpan.FromSeconds(1),
    };

    EnvironmentSites? sites;
    EnvironmentSites Sites => sites ??= new EnvironmentSites(FleetOptions, HostSettings.AppName, AwsFor, Log.Information);

    /// <summary>The same endpoint rules as the SDKs (AWS_ENDPOINT_URL_SSM, then --aws-endpoint-url), unless the
    /// environment names its own.</summary>
    AwsSettings AwsFor(string region, string? endpointUrl)
    {
        var settings = AwsSettings.Resolve(region, AwsCredentialChain.Default(), endpointUrl ?? AwsEndpointUrl);
        return endpointUrl is null ? settings : settings with { SsmEndpoint = new Uri(endpointUrl) };
    }

    readonly Dictionary<string, Deployer> deployers = new();

    /// <summary>Every operation on an environment, on its site.</summary>
    Deployer DeployerOf(DeployEnvironment environment) =>
        deployers.TryGetValue(environment.Name, out var d) ? d
        : deployers[environment.Name] = new Deployer(Sites.SiteOf(SettingsOf(environment)), HostSettings, DeployLog);

    /// <summary>The environment's deployer, once the checks that need no host passed (CI targets, bake against the
    /// site's script time limit).</summary>
    Deployer ReadyToDeploy(DeployEnvironment environment)
    {
        EnvironmentSites.CheckDeployable(SettingsOf(environment), IsServerBuild);
        var deployer = DeployerOf(environment);
        deployer.CheckFits(environment, DeployOptionsFor(environment));
        return deployer;
    }

    void PrintTable(IReadOnlyList<HostRow> rows, string did = "Deploy") =>
        PrintRows([["Host", did, "Switched back", "Serves"], .. rows.Select(r => new[] { r.Host, r.Did, r.SwitchBack, r.Serves })]);

    /// <summary>The deploy's table for the job summary: what went where, and each host's bake verdict.</summary>
    static string TableReport(string title, IReadOnlyList<HostRow> rows) =>
        $"### {title} ({rows.Count} host(s))\n\n" +
        Tables.Markdown([["Host", "Did", "Switched back", "Serves"], .. rows.Select(r => new[] { r.Host, r.Did, r.SwitchBack, r.Serves })]);

    void PrintRows(IReadOnlyList<string[]> rows)
    {
        foreach (var line in Tables.Text(rows)) Log.Information(line);
    }
}
