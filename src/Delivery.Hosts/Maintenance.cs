using System.Globalization;
using System.Text;
using Delivery.Core;
using Delivery.Hosts.Scripts;
using static Delivery.Hosts.ShellQuote;

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

/// <summary>
/// Plans that turn an environment's maintenance mode on or off (Scripts/maintenance.sh, embedded). Both hold the
/// environment's lock, so they never interleave with a deploy, and the proxy's lock around the proxy change.
/// </summary>
public static class MaintenancePlans
{

    public static string On(HostSettings host, DeployEnvironment env, MaintenanceSettings settings, DeployOptions options)
    {
        settings.Validate();
        return Plan(host, env, options, $"maintenance of {env.Name} on", values => values
                .Add("maintenance_message", settings.Message)
                .Add("maintenance_retry_after", (long)Math.Ceiling(settings.RetryAfter.TotalSeconds)),
            "maintenance_enable \"$maintenance_message\" \"$maintenance_retry_after\"\n");
    }

    public static string Off(HostSettings host, DeployEnvironment env, DeployOptions options) =>
        Plan(host, env, options, $"maintenance of {env.Name} off", values => values, "maintenance_disable\n");

    /// <summary>Reads only: whether the environment is in maintenance, since when, by whom and with which message.</summary>
    public static string Status(HostSettings host, DeployEnvironment env)
    {
        host.Validate();
        env.Validate();
        return HostScripts.Render($"maintenance status of {env.Name}", PlanValues.Of(host, DeployOptions.DefaultDeployer(), env),
            ["maintenance.sh"], HostScripts.EnvironmentContext + "maintenance_report\n");
    }

    static string Plan(HostSettings host, DeployEnvironment env, DeployOptions options, string title, Func<ScriptValues, ScriptValues> add, string body)
    {
        host.Validate();
        env.Validate();
        var values = add(PlanValues.Of(host, options.DeployedByOrDefault(), env)
            .Add("lock_wait", HostScripts.LockWaitSeconds(options))
            .Add("plan_title", title));
        return HostScripts.Render(title, values, ["maintenance.sh"], HostScripts.EnvironmentContext +
            "acquire_lock \"$lock_dir\" \"$env_name\" \"$plan_title\" \"$lock_wait\"\n" +
            "acquire_lock \"$proxy_lock_dir\" 'the proxy' \"$plan_title\" 60\n" + body);
    }
}

/// <summary>An environment's maintenance mode as its host reports it.</summary>
public sealed record MaintenanceStatus(string Environment, bool On, string? Since = null, string? By = null, int? RetryAfterSeconds = null, string? Message = null)
{
    internal static MaintenanceStatus Parse(string environment, IEnumerable<string> dataLines)
    {
        foreach (var line in dataLines)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var e = doc.RootElement;
            if (!e.TryGetProperty("kind", out var kind) || kind.GetString() != "maintenance") continue;
            string? Text(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
            return new MaintenanceStatus(environment, e.GetProperty("on").GetBoolean(), Text("since"), Text("by"),
                e.TryGetProperty("retry_after", out var r) && r.TryGetInt32(out var seconds) ? seconds : null, Text("message"));
        }
        throw new DeliveryException($"The host did not report the maintenance mode of {environment}.");
    }
}

/// <summary>
/// Maintenance mode on an environment's site: on and off roll over every host with the site's rolling rules (a
/// failure stops the roll and names the host), the status is asked of every host at once.
/// </summary>
public sealed class MaintenanceMode(Deployer deployer)
{
    HostSettings Scripts => deployer.Site.ScriptSettings(deployer.Settings);

    public Task OnAsync(DeployEnvironment environment, MaintenanceSettings maintenance, DeployOptions options, CancellationToken cancellationToken = default) =>
        deployer.RollAsync(MaintenancePlans.On(Scripts, environment, maintenance, options), $"Maintenance of {environment.Name}",
            $"{environment.Name} was not put in maintenance", cancellationToken);

    public Task OffAsync(DeployEnvironment environment, DeployOptions options, CancellationToken cancellationToken = default) =>
        deployer.RollAsync(MaintenancePlans.Off(Scripts, environment, options), $"Ending maintenance of {environment.Name}",
            $"{environment.Name} stays in maintenance", cancellationToken);

    /// <summary>Each host's maintenance mode of the environment.</summary>
    public async Task<IReadOnlyList<(string Host, MaintenanceStatus Status)>> StatusAsync(DeployEnvironment environment, CancellationToken cancellationToken = default)
    {
        var what = $"Maintenance status of {environment.Name}";
        var runs = await deployer.Site.QueryAsync(MaintenancePlans.Status(Scripts, environment), what, cancellationToken);
        if (runs.FirstOrDefault(r => !r.Succeeded) is { } failed)
            throw new DeliveryException($"{what} failed on {failed.Host}: {failed.Reason}");
        return runs.Select(r => (r.Host, MaintenanceStatus.Parse(environment.Name, r.Result.Data))).ToList();
    }
}
