using System.Formats.Tar;
using System.Text.RegularExpressions;

namespace Delivery.Hosts.Tests.Infrastructure;

/// <summary>What a test image does on /readyz and at start.</summary>
public enum ImageBehaviour { Healthy, NeverReady, ExitsAtStart, RunsAsRoot }

/// <summary>
/// Tiny images made without any public registry: a rootfs tar with Debian's static busybox serving static files
/// (/readyz, /version, /) with busybox httpd, imported with `docker import`, pushed to the test registry and
/// addressed by digest. The shell wrapper turns SIGTERM into a clean exit, as a real app does.
/// </summary>
public static class TestImages
{
    const string Busybox = "/bin/busybox";

    public static async Task<Release> BuildAndPushAsync(string registry, string repository, string version, ImageBehaviour behaviour)
    {
        if (!File.Exists(Busybox))
            Assert.Fail($"{Busybox} is required to build test images but is missing: apt-get install busybox-static");
        var docker = Tools.Require("docker", "docker.io");
        var dir = Directory.CreateTempSubdirectory("hdt-image-").FullName;
        try
        {
            var tar = Path.Combine(dir, "rootfs.tar");
            WriteRootfs(tar, version, behaviour);
            var reference = $"{registry}/{repository}:{version}";
            var cmd = behaviour == ImageBehaviour.ExitsAtStart
                ? """CMD ["/bin/busybox", "sh", "-c", "echo 'fatal: cannot start' >&2; exit 3"]"""
                : """CMD ["/bin/busybox", "sh", "-c", "/bin/busybox httpd -f -p 8080 -h /www & pid=$!; trap 'kill $pid; exit 0' TERM; echo listening on 8080; wait"]""";
            var args = new List<string> { "import", "--change", cmd, "--change", "EXPOSE 8080" };
            if (behaviour != ImageBehaviour.RunsAsRoot) args.AddRange(["--change", "USER 65534:65534"]);
            args.AddRange([tar, reference]);
            await Tools.RunChecked(docker, [.. args]);
            var push = await Tools.RunChecked(docker, "push", reference);
            var digest = Regex.Match(push, "digest: (sha256:[0-9a-f]{64})").Groups[1].Value;
            Assert.False(string.IsNullOrEmpty(digest), $"no digest in docker push output: {push}");
            // Drop the local copy so a deploy really pulls from the registry.
            await Tools.RunChecked(docker, "image", "rm", reference);
            return new Release(version, $"{registry}/{repository}", digest, Commit: Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(version))).ToLowerInvariant());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static void WriteRootfs(string path, string version, ImageBehaviour behaviour)
    {
        using var stream = File.Create(path);
        using var tar = new TarWriter(stream, TarEntryFormat.Pax);
        var time = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        void Dir(string name) => tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)0b111_101_101, ModificationTime = time });
        void FileEntry(string name, byte[] content, UnixFileMode mode)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = mode, ModificationTime = time, DataStream = new MemoryStream(content) };
            tar.WriteEntry(entry);
        }
        Dir("bin/");
        Dir("www/");
        tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "tmp/") { Mode = (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit, ModificationTime = time });
        FileEntry("bin/busybox", File.ReadAllBytes(Busybox), (UnixFileMode)0b111_101_101);
        var text = (string s) => System.Text.Encoding.UTF8.GetBytes(s);
        var readable = (UnixFileMode)0b110_100_100;
        FileEntry("www/version", text(version + "\n"), readable);
        FileEntry("www/index.html", text($"<!doctype html><title>test app {version}</title><p>{version}</p>\n"), readable);
        if (behaviour != ImageBehaviour.NeverReady)
            FileEntry("www/readyz", text("ready\n"), readable);
    }
}
