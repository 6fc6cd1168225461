namespace Aws.TestEndpoint;

/// <summary>
/// A managed instance as the test endpoint knows it: its id, its tags, and the environment the agent gives its
/// commands. A fake instance is a host as far as a deploy can tell through its own host configuration file
/// (WEBAPP_HOST_CONFIG: its own state root, app prefix and public ports); the commands really run on this machine
/// as the agent runs them (see README.md).
/// </summary>
public sealed class FakeInstance(string id)
{
    public string Id { get; } = id;
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

    /// <summary>Extra environment of every command on this instance (the agent adds AWS_SSM_INSTANCE_ID and AWS_SSM_REGION_NAME).</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>An instance that exists but is not SSM-managed (no agent or no instance profile) refuses commands and
    /// is not listed by DescribeInstanceInformation.</summary>
    public bool Managed { get; set; } = true;

    /// <summary>False: the instance is stopped or its agent lost its connection. DescribeInstanceInformation says
    /// ConnectionLost and commands to it stay Pending until they are Delivery Timed Out.</summary>
    public bool Online { get; set; } = true;

    public string PingStatus => Online ? "Online" : "ConnectionLost";

    public DateTimeOffset LastPing { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>What the instance's commands run through (see <see cref="IsolateRoot"/>); empty: this machine's own /.</summary>
    public IReadOnlyList<string> Launcher { get; private set; } = [];

    /// <summary>
    /// Gives the instance a root filesystem of its own, for commands that change the system (ConfigureHost installs
    /// packages and writes /etc): each command runs in a private mount namespace whose / is an overlay over this
    /// machine's /, with every write kept in <paramref name="directory"/>/upper, so this machine's /etc, /usr and
    /// /var stay as they are and the instance keeps its changes from one command to the next. /proc, /sys, /dev and
    /// /run are this machine's (the engine's socket is in /run), so the instance shares the engine and the processes.
    /// </summary>
    public void IsolateRoot(string directory)
    {
        Directory.CreateDirectory(directory);
        Launcher = ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", IsolatedRootScript, directory];
    }

    static string IsolatedRootScript => Path.Combine(AppContext.BaseDirectory, "isolated-root.sh");

    public string PlatformName { get; set; } = "Ubuntu";
    public string PlatformVersion { get; set; } = "24.04";
}
