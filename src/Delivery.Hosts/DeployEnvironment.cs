using System.Globalization;
using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Hosts;

/// <summary>
/// Where a release runs and how it is gated: one per environment. Named <c>DeployEnvironment</c> rather than
/// <c>Environment</c> so build code keeps using <see cref="System.Environment"/> without qualification.
/// </summary>
public sealed partial record DeployEnvironment
{
    public required string Name { get; init; }
    /// <summary>The port the host's proxy listens on for this environment.</summary>
    public required int PublicPort { get; init; }
    /// <summary>Value of ASPNETCORE_ENVIRONMENT inside the container.</summary>
    public required string AspNetCoreEnvironment { get; init; }
    public int ContainerPort { get; init; } = 8080;
    public string HealthPath { get; init; } = "/readyz";
    /// <summary>Where the app serves Prometheus text; the bake reads it from the container port.</summary>
    public string MetricsPath { get; init; } = "/metrics";
    /// <summary>How long a new release may take to answer 200 on the health path before it is rejected.</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long the previous release may keep finishing requests after the switch.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Grace period of <c>docker stop</c> (SIGTERM, then SIGKILL).</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>docker --memory value, e.g. 512m.</summary>
    public string Memory { get; init; } = "512m";
    /// <summary>docker --cpus value, e.g. 1.0.</summary>
    public string Cpus { get; init; } = "1.0";
    /// <summary>Releases kept on the host per environment, the serving one included; the others are rollback targets.</summary>
    public int KeepReleases { get; init; } = 3;
    /// <summary>How long a deploy watches the new release after the switch, unless told otherwise (zero: no bake).</summary>
    public TimeSpan BakeTime { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The environment's release phase command (see <see cref="ReleasePhaseSettings"/>), unless a deploy names one.</summary>
    public string? ReleaseCommand { get; init; }
    public TimeSpan ReleaseCommandTimeout { get; init; } = ReleasePhaseSettings.DefaultTimeout;

    public static DeployEnvironment Staging { get; } =
        new() { Name = "staging", PublicPort = 8081, AspNetCoreEnvironment = "Staging" };

    public static DeployEnvironment Production { get; } =
        new() { Name = "production", PublicPort = 8080, AspNetCoreEnvironment = "Production", BakeTime = TimeSpan.FromSeconds(120) };

    public static IReadOnlyList<DeployEnvironment> All { get; } = [Staging, Production];

    public static DeployEnvironment Named(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new DeliveryException(
            $"Unknown environment '{name}'. Valid environments: {string.Join(", ", All.Select(e => e.Name))}.");

    internal static string Seconds(TimeSpan span) =>
        Math.Max(1, (int)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    public void Validate()
    {
        if (!NamePattern().IsMatch(Name))
            throw new DeliveryException($"Environment name '{Name}' must be lower-case letters, digits and dashes.");
        CheckPort(PublicPort, "public port");
        CheckPort(ContainerPort, "container port");
        if (!HealthPathPattern().IsMatch(HealthPath))
            throw new DeliveryException($"Health path '{HealthPath}' of {Name} must start with '/' and contain only URL path characters.");
        if (!HealthPathPattern().IsMatch(MetricsPath))
            throw new DeliveryException($"Metrics path '{MetricsPath}' of {Name} must start with '/' and contain only URL path characters.");
        if (!MemoryPattern().IsMatch(Memory))
            throw new DeliveryException($"Memory limit '{Memory}' of {Name} must look like 512m or 1g.");
        if (!CpusPattern().IsMatch(Cpus))
            throw new DeliveryException($"CPU limit '{Cpus}' of {Name} must be a number such as 1.0.");
        if (KeepReleases < 1)
            throw new DeliveryException($"KeepReleases of {Name} must be at least 1 (the serving release).");
        if (!EnvironmentValuePattern().IsMatch(AspNetCoreEnvironment))
            throw new DeliveryException($"ASPNETCORE_ENVIRONMENT '{AspNetCoreEnvironment}' of {Name} must be letters and digits.");
        foreach (var (span, what) in new[] { (HealthTimeout, "health timeout"), (DrainTimeout, "drain timeout"), (StopTimeout, "stop timeout") })
            if (span <= TimeSpan.Zero)
                throw new DeliveryException($"The {what} of {Name} must be positive.");
    }

    void CheckPort(int port, string what)
    {
        if (port is < 1 or > 65535)
            throw new DeliveryException($"The {what} of {Name} must be between 1 and 65535, not {port}.");
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,30}$")] private static partial Regex NamePattern();
    [GeneratedRegex("^/[A-Za-z0-9._~/-]*$")] private static partial Regex HealthPathPattern();
    [GeneratedRegex("^[0-9]+[bkmg]?$")] private static partial Regex MemoryPattern();
    [GeneratedRegex("^[0-9]+(\\.[0-9]+)?$")] private static partial Regex CpusPattern();
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]*$")] private static partial Regex EnvironmentValuePattern();
}
