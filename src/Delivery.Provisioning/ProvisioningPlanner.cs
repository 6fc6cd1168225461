namespace Delivery.Provisioning;

/// <summary>
/// The one provisioning decision for every machine (a fresh Debian box, a developer's laptop, GitHub's Ubuntu
/// runners): from os-release, the tools found and the privilege to the commands to run. Pure, so that each machine's
/// plan is pinned by a test. Detects first and installs only what is missing: a running engine of any kind is used
/// and never gets a second one next to it; a Chromium-family browser that is there is used as it is.
/// </summary>
public static class ProvisioningPlanner
{
    /// <summary>The environment variable that points the browser tests at the browser found.</summary>
    public const string BrowserVariable = "CHROMIUM_PATH";

    public const string DaemonLog = "/var/log/dockerd.log";
    const string DefaultDockerd = "/usr/sbin/dockerd";

    public static ProvisioningPlan Plan(MachineState machine, IEnumerable<Requirement> needs)
    {
        var wanted = needs.Distinct().OrderBy(r => IndexOf(r)).ToList();
        var distribution = machine.Os.Distribution;
        var have = new List<string>();
        var found = new List<string>();
        var missing = new List<Requirement>();
        var problems = new List<string>();
        var startEngine = false;
        var waitForEngine = false;
        string? browser = null;

        foreach (var need in wanted)
        {
            switch (need.Kind)
            {
                case RequirementKind.Engine:
                    PlanEngine();
                    break;
                case RequirementKind.Browser when machine.Browsers.Count > 0:
                    browser = machine.Browsers[0];
                    have.Add($"browser: {browser}, passed to the tests as {BrowserVariable}" +
                             (machine.Os.IsUbuntu && !browser.EndsWith("/chromium", StringComparison.Ordinal) ? " (Ubuntu has no Chromium deb)" : ""));
                    break;
                case RequirementKind.Tool when machine.Find(need.Executable) is not null:
                    found.Add(need.Executable);
                    break;
                default:
                    missing.Add(need);
                    break;
            }
        }
        if (found.Count > 0) have.Add(string.Join(", ", found));

        var install = new List<PackageInstall>();
        if (missing.Count > 0 && distribution == Distribution.Unsupported)
            problems.Add($"{string.Join(", ", missing.Select(Describe))} {(missing.Count == 1 ? "is" : "are")} missing, and the build installs packages " +
                         "only on Debian 12 and Ubuntu 22.04/24.04: install them yourself");
        else
            foreach (var need in missing)
            {
                if (need.PackageOn(distribution) is not { } package)
                {
                    problems.Add(NoBrowserPackage());
                    continue;
                }
                var existing = install.FindIndex(i => i.Package == package);
                if (existing >= 0) install[existing] = install[existing] with { Provides = [.. install[existing].Provides, need.Executable] };
                else install.Add(new PackageInstall(package, [need.Executable]));
            }

        var packages = install.Select(i => i.Package).ToList();
        if (machine.Privilege == Privilege.None && packages.Count > 0)
            problems.Add($"{string.Join(" ", packages)} {(packages.Count == 1 ? "is" : "are")} missing and {NoPrivilege()}: " +
                         $"run 'sudo apt-get install -y {string.Join(" ", packages)}'");
        if (machine.Privilege == Privilege.None && startEngine && !missing.Contains(Requirement.Engine))
            problems.Add($"dockerd is not running and {NoPrivilege()}: start it (sudo systemctl start docker, or sudo dockerd)");

        if (problems.Count > 0)
            return new ProvisioningPlan
            {
                Machine = machine, Have = have, Install = install, BrowserPath = browser,
                Failure = $"Cannot provision {machine.Os.PrettyName}: {string.Join("; ", problems)}; then build again",
            };

        var commands = new List<ProvisioningCommand>();
        if (packages.Count > 0)
        {
            commands.Add(Elevated(["apt-get", "update", "-qq"]));
            commands.Add(Elevated(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "--no-install-recommends", .. packages]));
        }
        if (startEngine)
            // Detached into its own session (no systemd on a bare machine), so the engine outlives the build.
            commands.Add(Elevated(["setsid", "-f", "/bin/sh", "-c", "exec \"$1\" >>\"$2\" 2>&1 </dev/null", "dockerd",
                machine.Find("dockerd") ?? DefaultDockerd, DaemonLog]));

        return new ProvisioningPlan
        {
            Machine = machine, Have = have, Install = install, Commands = commands, BrowserPath = browser,
            WaitForEngine = startEngine || waitForEngine,
        };

        void PlanEngine()
        {
            var engine = machine.Engine;
            var cli = machine.Find("docker");
            if (engine.Answers && cli is null)
                problems.Add($"the engine at {engine.Endpoint} answers but the docker CLI is missing: install the CLI that belongs to that engine " +
                             "(docker-ce-cli for Docker's packages), never a second engine");
            else if (engine.Answers)
                have.Add($"Docker Engine: answers at {engine.Endpoint}; no second engine (docker.io) is installed next to it");
            else if (!engine.IsLocal)
                problems.Add($"the Docker Engine at {engine.Endpoint} is not reachable: start it there, or unset DOCKER_HOST to use the local engine");
            else if (engine.DaemonRunning)
            {
                waitForEngine = true;
                have.Add("Docker Engine: dockerd is starting");
            }
            else if (machine.Find("dockerd") is { } dockerd)
            {
                startEngine = true;
                have.Add($"Docker Engine: {dockerd} is installed but not running; starting it");
            }
            else
            {
                missing.Add(Requirement.Engine);
                startEngine = true;
            }
        }

        string NoBrowserPackage() =>
            "there is no Chromium-family browser, and Ubuntu has no Chromium deb" +
            (machine.SnapStubs.Count > 0 ? $" ({string.Join(", ", machine.SnapStubs)} is only the snap transition stub)" : "") +
            $": install google-chrome-stable or microsoft-edge-stable from its vendor's apt repository, or set {BrowserVariable} to a Chromium-family browser";

        string NoPrivilege() => $"this user ({machine.User}) is not root and 'sudo -n true' fails";

        ProvisioningCommand Elevated(IReadOnlyList<string> command) => new(machine.Privilege.Elevate(command)!);
    }

    static int IndexOf(Requirement requirement)
    {
        var index = Requirement.All.ToList().IndexOf(requirement);
        return index < 0 ? int.MaxValue : index;
    }

    static string Describe(Requirement requirement) => requirement.Kind switch
    {
        RequirementKind.Engine => "a Docker Engine (dockerd)",
        RequirementKind.Browser => "a Chromium-family browser",
        _ => requirement.Executable,
    };
}
