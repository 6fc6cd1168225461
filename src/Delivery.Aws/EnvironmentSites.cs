using Delivery.Core;
using Delivery.Hosts;
using Delivery.Hosts.Sites;

namespace Delivery.Aws;

/// <summary>The environments a build knows, as the command line names them.</summary>
public enum EnvironmentName { Staging, Production }

/// <summary>
/// Where one environment runs, as configured: its SSM targets (none or "local" = this machine), its region and its
/// endpoint. One record per environment; <see cref="EnvironmentSites"/> turns it into a <see cref="Site"/>.
/// </summary>
/// <param name="RegistryCredentialKey">The KMS key of the registry credential's SecureString on a fleet (null: aws/ssm).</param>
public sealed record EnvironmentSettings(DeployEnvironment Environment, string? Targets, string? Region = null, string? EndpointUrl = null,
    string? RegistryCredentialKey = null)
{
    public const string ThisMachine = "local";

    public static DeployEnvironment Of(EnvironmentName name) => name switch
    {
        EnvironmentName.Production => DeployEnvironment.Production,
        _ => DeployEnvironment.Staging,
    };

    /// <summary>The option that sets the targets, named in errors.</summary>
    public string TargetsOption => $"--{Environment.Name}-targets ({Environment.Name.ToUpperInvariant()}_TARGETS)";

    /// <summary>True when the targets say "local" on purpose.</summary>
    public bool SaysThisMachine => string.Equals(Targets?.Trim(), ThisMachine, StringComparison.OrdinalIgnoreCase);

    /// <summary>The SSM targets, or null for this machine.</summary>
    public SsmTargets? SsmTargets =>
        string.IsNullOrWhiteSpace(Targets) || SaysThisMachine ? null : Aws.SsmTargets.Parse(Targets, TargetsOption);
}

/// <summary>
/// Turns each environment's settings into its site: this machine without SSM targets, else the SSM fleet in the
/// environment's own region, through one <see cref="SsmClient"/> per region and endpoint. The only place that knows
/// there are two kinds of site.
/// </summary>
public sealed class EnvironmentSites(FleetOptions fleet, string app, Func<string, string?, AwsSettings> aws, Action<string>? log = null) : IDisposable
{
    readonly Dictionary<(string Region, string? Endpoint), SsmClient> clients = new();

    /// <summary>The site of <paramref name="settings"/>: this machine without SSM targets, else the fleet.</summary>
    public Site SiteOf(EnvironmentSettings settings) =>
        settings.SsmTargets is { } targets ? new SsmFleetSite(ClientFor(settings), targets, fleet, app, log, settings.RegistryCredentialKey) : new ThisMachine(new LocalHost());

    /// <summary>A CI build deploys to its own machine only when told so ('local'): a runner is thrown away when the
    /// job ends, so a forgotten setting must fail rather than deploy there.</summary>
    public static void CheckDeployable(EnvironmentSettings settings, bool onCi)
    {
        if (onCi && settings.SsmTargets is null && !settings.SaysThisMachine)
            throw new DeliveryException($"No SSM targets for {settings.Environment.Name}: set {settings.TargetsOption} to instance ids or tag:Key=Value " +
                                        $"(or '{EnvironmentSettings.ThisMachine}' for this machine); a CI build never deploys to its runner unless told so");
    }

    /// <summary>True when the environment runs on an SSM fleet (ConfigureHost then provisions the fleet, not this machine).</summary>
    public static bool RunsOnFleet(EnvironmentSettings settings) => settings.SsmTargets is not null;

    SsmClient ClientFor(EnvironmentSettings settings)
    {
        var region = settings.Region
                     ?? throw new DeliveryException($"No AWS region for the {settings.Environment.Name} targets: set --aws-region (AWS_REGION) or --{settings.Environment.Name}-region");
        var key = (region, settings.EndpointUrl);
        if (clients.TryGetValue(key, out var client)) return client;
        return clients[key] = new SsmClient(aws(region, settings.EndpointUrl));
    }

    /// <summary>The regions a client was made for, in order (for tests and logs).</summary>
    public IReadOnlyCollection<string> Regions => clients.Keys.Select(k => k.Region).ToList();

    public void Dispose()
    {
        foreach (var client in clients.Values) client.Dispose();
    }
}
