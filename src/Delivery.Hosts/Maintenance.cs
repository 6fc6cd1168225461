using System.Globalization;
using Delivery.Core;
using Delivery.Hosts.Scripts;

namespace Delivery.Hosts;

/// <summary>What the maintenance page says: one line of text (HTML-escaped on the host) and the Retry-After it sends.</summary>
public sealed record MaintenanceSettings
{
    public const string DefaultMessage = "This site is down for maintenance.";

    public string Message { get; init; } = DefaultMessage;
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromMinutes(5);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Message) || Message.Length > 500 || Message.Any(char.IsControl))
            throw new DeliveryException("The maintenance message must be one line of 1 to 500 characters, without control characters.");
        if (RetryAfter < TimeSpan.FromSeconds(1) || RetryAfter > TimeSpan.FromDays(1))
            throw new DeliveryException($"Retry-After must be between 1 s and 1 day, not {RetryAfter.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s.");
    }
}

/// <summary>An environment's maintenance mode as its host reports it.</summary>
public sealed record MaintenanceStatus(string Environment, bool On, string? Since = null, string? By = null, int? RetryAfterSeconds = null, string? Message = null);

/// <summary>
/// Maintenance mode on an environment's site: on and off roll over every host with the site's rolling rules (a
/// failure stops the roll and names the host), the status is asked of every host at once.
/// </summary>
public sealed class MaintenanceMode(Deployer deployer)
{
    HostSettings Scripts => deployer.Site.ScriptSettings(deployer.Settings);

    public Task OnAsync(DeployEnvironment environment, MaintenanceSettings maintenance, DeployOptions options, CancellationToken cancellationToken = default) =>
        deployer.RollAsync(HostScripts.MaintenanceOn(Scripts, environment, maintenance, options), $"Maintenance of {environment.Name}",
            $"{environment.Name} was not put in maintenance", cancellationToken);

    public Task OffAsync(DeployEnvironment environment, DeployOptions options, CancellationToken cancellationToken = default) =>
        deployer.RollAsync(HostScripts.MaintenanceOff(Scripts, environment, options), $"Ending maintenance of {environment.Name}",
            $"{environment.Name} stays in maintenance", cancellationToken);

    /// <summary>Each host's maintenance mode of the environment.</summary>
    public async Task<IReadOnlyList<(string Host, MaintenanceStatus Status)>> StatusAsync(DeployEnvironment environment, CancellationToken cancellationToken = default)
    {
        var what = $"Maintenance status of {environment.Name}";
        var runs = await deployer.Site.QueryAsync(HostScripts.MaintenanceStatus(Scripts, environment), what, cancellationToken);
        if (runs.FirstOrDefault(r => !r.Succeeded) is { } failed)
            throw new DeliveryException($"{what} failed on {failed.Host}: {failed.Reason}");
        return runs.Select(r => (r.Host, r.Output.Maintenance(environment)
            ?? throw new DeliveryException($"{what}: {r.Host} did not report it"))).ToList();
    }
}
