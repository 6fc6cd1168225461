using System.Formats.Tar;
using System.IO.Compression;
using Delivery.Core;
using Delivery.Hosts.Scripts;

namespace Delivery.Hosts;

/// <summary>
/// What ConfigureHost gives each host: the repository's ansible/ folder (a base64 tar.gz of a few KB that travels in
/// the script's values header, so the same script runs under local bash or as one AWS-RunShellScript command), the
/// playbook's variables, and how long the host may take to become ready for packages. No secret travels here:
/// pulls from an ECR registry use the credential helper and the instance role.
/// </summary>
public sealed record HostConfigurationSettings
{
    /// <summary>The ansible/ folder as a base64 tar.gz (see <see cref="Archive"/>).</summary>
    public required string PlaybookArchive { get; init; }

    /// <summary>Extra playbook variables (e.g. webapp_ecr_registry); the host's own (state root, app, ports) come from its settings.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    /// <summary>The hosts pull with a password login the build holds (--registry-username and REGISTRY_PASSWORD, not
    /// ECR): hosts that do not share the build's docker read it from Parameter Store, so they get the AWS CLI.</summary>
    public bool PasswordRegistry { get; init; }

    /// <summary>A syntax check first and a second run that must change nothing.</summary>
    public bool CheckIdempotence { get; init; }

    /// <summary>How long a fresh instance's cloud-init may take before ConfigureHost gives up.</summary>
    public TimeSpan CloudInitWait { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long another package manager (unattended-upgrades at first boot) may hold the package lock.</summary>
    public TimeSpan PackageLockWait { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>What the playbook itself needs at least, on top of the waits, within a site's script time limit.</summary>
    public static readonly TimeSpan PlaybookBudget = TimeSpan.FromMinutes(5);

    /// <summary>Where the host says what it runs (tests point it at a fixture).</summary>
    public string OsReleaseFile { get; init; } = "/etc/os-release";

    public void Validate()
    {
        if (CloudInitWait < TimeSpan.FromSeconds(1) || PackageLockWait < TimeSpan.FromSeconds(1))
            throw new DeliveryException("ConfigureHost's cloud-init and package lock waits must be at least 1 s.");
        foreach (var (name, value) in Variables)
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z][a-z0-9_]*$") || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                throw new DeliveryException($"Playbook variable {name}={value} must be a lower-case name and a value without spaces.");
    }

    /// <summary>The folder as a base64 tar.gz, files in a fixed order (the same folder gives the same text).</summary>
    public static string Archive(string directory)
    {
        if (!Directory.Exists(directory)) throw new DeliveryException($"The ansible folder {directory} does not exist");
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                tar.WriteEntry(file, Path.GetRelativePath(directory, file).Replace('\\', '/'));
        return Convert.ToBase64String(buffer.ToArray());
    }
}

/// <summary>One playbook run on a host, as its data line reports it.</summary>
public sealed record PlaybookRun(int Run, int Changed, TimeSpan Duration, string System);

/// <summary>What ConfigureHost did on one host.</summary>
public sealed record ConfiguredHost(string Host, IReadOnlyList<PlaybookRun> Runs)
{
    public string System => Runs.FirstOrDefault()?.System ?? "?";

    public string Describe() => $"{Host} ({System}): " + string.Join(", ", Runs.Select(r => $"run {r.Run} changed={r.Changed} in {r.Duration.TotalSeconds:0.0} s"));
}

/// <summary>
/// ConfigureHost on an environment's site: the same script on this machine and on every instance of a fleet, rolled
/// with the site's rolling rules (a failure stops the roll and names the host).
/// </summary>
public sealed class HostConfiguration(Deployer deployer)
{
    public async Task<IReadOnlyList<ConfiguredHost>> ConfigureAsync(HostConfigurationSettings settings, string what, CancellationToken cancellationToken = default)
    {
        // The waits are bounds, not estimates; with them the playbook must still fit the transport's limit (SSM's execution timeout).
        var needed = settings.CloudInitWait + settings.PackageLockWait + HostConfigurationSettings.PlaybookBudget * (settings.CheckIdempotence ? 2 : 1);
        if (deployer.Site.ScriptTimeLimit is var (limit, parameter) && limit < needed)
            throw new DeliveryException($"{what}: the script may wait {settings.CloudInitWait.TotalSeconds:0} s for cloud-init and {settings.PackageLockWait.TotalSeconds:0} s " +
                                        $"for the package lock and needs up to {HostConfigurationSettings.PlaybookBudget.TotalSeconds:0} s per playbook run: {needed.TotalSeconds:0} s " +
                                        $"in all, more than {parameter} ({limit.TotalSeconds:0} s); raise {parameter} to at least {needed.TotalSeconds:0}s (nothing was sent)");
        // A site whose hosts do not share the build's docker hands them the login as a parameter (Site.RegistryAccessAsync).
        var awsCli = settings.PasswordRegistry && !deployer.Site.SharesTheBuildsDocker;
        var script = HostScripts.ConfigureHost(deployer.Site.ScriptSettings(deployer.Settings), settings, awsCli);
        var runs = await deployer.RollAsync(script, what, "nothing was configured", cancellationToken);
        return runs.Where(r => r.Succeeded).Select(r => new ConfiguredHost(r.Host, r.Output.Configured is { Count: > 0 } played
            ? played
            : throw new DeliveryException($"{what}: {r.Host} finished without reporting a playbook run: {r.Result.Tail()}"))).ToList();
    }
}
