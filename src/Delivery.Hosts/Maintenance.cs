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
    public static string Functions { get; } = Bake.PairedJudge.ReadScript("maintenance.sh");

    public static string On(HostSettings host, DeployEnvironment env, MaintenanceSettings settings, DeployOptions options)
    {
        settings.Validate();
        return Plan(host, env, options, $"maintenance of {env.Name} on",
            $"maintenance_message={Quote(settings.Message)}\n" +
            $"maintenance_retry_after={(long)Math.Ceiling(settings.RetryAfter.TotalSeconds)}\n" +
            "maintenance_enable \"$maintenance_message\" \"$maintenance_retry_after\"\n");
    }

    public static string Off(HostSettings host, DeployEnvironment env, DeployOptions options) =>
        Plan(host, env, options, $"maintenance of {env.Name} off", "maintenance_disable\n");

    static string Plan(HostSettings host, DeployEnvironment env, DeployOptions options, string title, string body)
    {
        host.Validate();
        env.Validate();
        var wait = ((int)Math.Ceiling(Math.Max(0, options.LockWait.TotalSeconds))).ToString(CultureInfo.InvariantCulture);
        return new StringBuilder()
            .Append(ScriptLibrary.Header(title))
            .Append(ScriptContext.Host(host, options.DeployedByOrDefault()))
            .Append(ScriptContext.Environment(host, env))
            .Append(ScriptLibrary.All)
            .Append(LockActions.All)
            .Append(ProxyActions.All)
            .Append(Functions)
            .Append(HostScripts.Trap(""))
            .Append($"acquire_lock \"$lock_dir\" \"$env_name\" {Quote(title)} {wait}\n")
            .Append($"acquire_lock \"$proxy_lock_dir\" 'the proxy' {Quote(title)} 60\n")
            .Append(body)
            .ToString();
    }
}
