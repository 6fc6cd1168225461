namespace Delivery.Provisioning;

/// <summary>The Docker Engine as the build sees it.</summary>
/// <param name="Answers">The engine answered a ping at <paramref name="Endpoint"/>.</param>
/// <param name="IsLocal">The endpoint is this machine's default socket (a DOCKER_HOST elsewhere is never installed here).</param>
/// <param name="DaemonRunning">A dockerd process exists (it may still be starting).</param>
public sealed record EngineState(bool Answers, string Endpoint = "unix:///var/run/docker.sock", bool IsLocal = true, bool DaemonRunning = false);

/// <summary>
/// What the machine has, as found by <see cref="MachineSurvey"/> or written by hand in a test: the input of
/// <see cref="ProvisioningPlanner.Plan"/>.
/// </summary>
public sealed record MachineState
{
    public required OsRelease Os { get; init; }
    public required Privilege Privilege { get; init; }
    public string User { get; init; } = "root";

    /// <summary>Executables found, by name, with their paths (busybox only when it is static; "docker" is the CLI).</summary>
    public IReadOnlyDictionary<string, string> Executables { get; init; } = new Dictionary<string, string>();

    public EngineState Engine { get; init; } = new(Answers: false);

    /// <summary>Usable Chromium-family browsers, best first (snap stubs are left out).</summary>
    public IReadOnlyList<string> Browsers { get; init; } = [];

    /// <summary>Browser commands that are only the snap transition stub (Ubuntu's chromium-browser), named in messages.</summary>
    public IReadOnlyList<string> SnapStubs { get; init; } = [];

    public string? Find(string executable) => Executables.GetValueOrDefault(executable);
}
