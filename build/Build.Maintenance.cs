using BuildGraph;
using Delivery.Core;
using Delivery.Hosts;

/// <summary>Maintenance mode: the proxy answers an environment's app routes with a 503 page until it is turned off.</summary>
partial class Build
{
    [Parameter("Maintenance: turn maintenance mode on for --environment", Name = "On")]
    readonly bool MaintenanceOn;

    [Parameter("Maintenance: turn maintenance mode off for --environment", Name = "Off")]
    readonly bool MaintenanceOff;

    [Parameter("Maintenance: the one-line message on the 503 page (default: This site is down for maintenance.)", Name = "Message")]
    readonly string MaintenanceMessage = MaintenanceSettings.DefaultMessage;

    [Parameter("Maintenance: how long the 503 page's Retry-After header asks clients to wait", Name = "RetryAfter")]
    readonly TimeSpan MaintenanceRetryAfter = new MaintenanceSettings().RetryAfter;

    [Parameter("Deploy and Rollback: turn --environment's maintenance mode off once the release serves (otherwise it stays on)")]
    readonly bool EndMaintenance;

    Target Maintenance => _ => _
        .Description("Turns maintenance mode of --environment --on [--message \"...\"] or --off on every host; without either, shows it")
        .Requires(() => TargetEnvironment)
        .Executes(async () =>
        {
            if (MaintenanceOn && MaintenanceOff) throw new DeliveryException("Maintenance takes --on or --off, not both.");
            var mode = new MaintenanceMode(Selected);
            if (MaintenanceOn)
                await mode.OnAsync(SelectedEnvironment, new() { Message = MaintenanceMessage, RetryAfter = MaintenanceRetryAfter }, DeployOptions, CancellationToken);
            else if (MaintenanceOff)
                await mode.OffAsync(SelectedEnvironment, DeployOptions, CancellationToken);
            var hosts = await mode.StatusAsync(SelectedEnvironment, CancellationToken);
            ReportSummary(string.Join("; ", hosts.Select(h => h.Status.On
                ? $"{h.Host}: {h.Status.Environment} in maintenance since {h.Status.Since} ({h.Status.Message})"
                : $"{h.Host}: {h.Status.Environment} serving (maintenance off)")));
        });
}
