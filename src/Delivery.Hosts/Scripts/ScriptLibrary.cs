namespace Delivery.Hosts.Scripts;

/// <summary>Small shell functions the actions share. Output lines carry a fixed marker so the caller can tell
/// progress, errors and machine-readable data apart on any host (local bash or SSM).</summary>
public static class ScriptLibrary
{
    public const string Marker = "webapp-deploy: ";
    public const string ErrorMarker = "webapp-deploy: error: ";
    public const string DataMarker = "webapp-deploy: data: ";
    public const string LogMarker = "webapp-deploy: log: ";

    public static string Header(string title) =>
        $"""
        #!/usr/bin/env bash
        # {title.Replace('\n', ' ')} (rendered by Delivery.Hosts; runs as one script on the host)
        set -euo pipefail
        exec 2>&1
        umask 022

        """;

    public const string Output = """
        say() { printf 'webapp-deploy: %s\n' "$*"; }
        fail() { printf 'webapp-deploy: error: %s\n' "$*"; exit 1; }
        emit() { printf 'webapp-deploy: data: %s\n' "$*"; }

        """;

    /// <summary>Runs one step and reports how long it took, in milliseconds.</summary>
    public const string Timed = """
        timed() {
          local phase="$1" started
          shift
          started=$(date +%s%3N)
          "$@"
          emit "{\"kind\":\"timing\",\"phase\":\"$phase\",\"ms\":$(( $(date +%s%3N) - started ))}"
        }

        """;

    /// <summary>Reads key=value state files (current, previous, lock holder) without sourcing them.</summary>
    public const string Field = """
        field() {
          [ -f "$1" ] || return 0
          sed -n "/^$2=/{s/^$2=//p;q;}" "$1"
        }

        """;

    public const string JsonString = """
        json_str() {
          local s="$1"
          s=${s//\\/\\\\}
          s=${s//\"/\\\"}
          printf '"%s"' "$s"
        }

        """;

    public const string Clock = """
        now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }

        """;

    /// <summary>A process counts as alive unless it is gone or a zombie; its start time tells a reused PID apart.</summary>
    public const string Processes = """
        pid_alive() {
          local state
          state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
          [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
        }
        pid_start() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null || true; }

        """;

    public const string Ports = """
        port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

        """;

    public static string All =>
        Output + Timed + Field + JsonString + Clock + Processes + Ports;
}
