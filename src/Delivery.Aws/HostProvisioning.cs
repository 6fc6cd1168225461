using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Delivery.Core;
using static Delivery.Hosts.ShellQuote;

namespace Delivery.Aws;

/// <summary>
/// ConfigureHost on EC2 through SSM: the repository's ansible/ folder travels inline in an AWS-RunShellScript command
/// (a base64 tar.gz, a few KB) and runs there with <c>ansible-playbook -c local</c>. Chosen over
/// AWS-ApplyAnsiblePlaybooks, whose inline form takes one playbook file (no roles folder) and whose other forms need
/// the playbook in S3 or GitHub first. The command carries no secret: pulls from an ECR registry use the credential
/// helper and the instance role (the playbook installs it for that registry only, given as webapp_ecr_registry).
/// </summary>
public static class HostProvisioning
{
    /// <summary>The script for one run; <paramref name="checkIdempotence"/> adds a syntax check and a second run that must change nothing.</summary>
    public static string ConfigureScript(string ansibleDirectory, bool checkIdempotence, IReadOnlyDictionary<string, string> variables)
    {
        var archive = Archive(ansibleDirectory);
        var extra = string.Join(" ", variables.Select(v => "-e " + Quote($"{v.Key}={v.Value}")));
        var play = $"ansible-playbook -c local -i localhost, \"$dir/configure-host.yml\" -e webapp_host_config=true {extra}";
        return $$"""
            #!/usr/bin/env bash
            # ConfigureHost through SSM (rendered by Delivery.Aws)
            set -euo pipefail
            exec 2>&1
            say() { printf 'webapp-deploy: %s\n' "$*"; }
            fail() { printf 'webapp-deploy: error: %s\n' "$*"; exit 1; }
            if ! command -v ansible-playbook >/dev/null; then
              [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || fail "ansible-playbook is missing and cannot be installed here (needs root and apt-get)"
              say "installing ansible-core"
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible-core >/dev/null
            fi
            dir=$(mktemp -d "${TMPDIR:-/tmp}/webapp-ansible-XXXXXXXX")
            trap 'rm -rf "$dir"' EXIT
            base64 -d > "$dir/ansible.tar.gz" <<'ANSIBLE_ARCHIVE'
            {{archive}}
            ANSIBLE_ARCHIVE
            tar -xzf "$dir/ansible.tar.gz" -C "$dir"
            changed() { sed -n 's/.*changed=\([0-9]*\).*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }
            {{(checkIdempotence ? play + " --syntax-check >/dev/null\n" : "")}}{{play}} > "$dir/first.log" || { tail -n 30 "$dir/first.log"; fail "ansible-playbook failed"; }
            tail -n 5 "$dir/first.log"
            first=$(changed "$dir/first.log")
            printf 'webapp-deploy: data: {"kind":"configured","run":1,"changed":%d}\n' "$first"
            {{(checkIdempotence ? play + " > \"$dir/second.log\" || { tail -n 30 \"$dir/second.log\"; fail \"ansible-playbook failed on its second run\"; }\nsecond=$(changed \"$dir/second.log\")\nprintf 'webapp-deploy: data: {\"kind\":\"configured\",\"run\":2,\"changed\":%d}\\n' \"$second\"\n[ \"$second\" = 0 ] || fail \"ConfigureHost is not idempotent: the second run changed $second tasks\"\n" : "")}}say "configured (changed=$first)"
            """;
    }

    static string Archive(string directory)
    {
        if (!Directory.Exists(directory)) throw new DeliveryException($"The ansible folder {directory} does not exist");
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                tar.WriteEntry(file, Path.GetRelativePath(directory, file));
        var text = Convert.ToBase64String(buffer.ToArray());
        var lines = new StringBuilder();
        for (var i = 0; i < text.Length; i += 76) lines.Append(text, i, Math.Min(76, text.Length - i)).Append('\n');
        return lines.ToString().TrimEnd('\n');
    }
}
