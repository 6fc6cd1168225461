using System.Formats.Tar;
using System.Text.RegularExpressions;

namespace TestSupport;

/// <summary>What a test image does on /readyz and at start. The Metered kinds also serve a page and Prometheus
/// metrics (see <see cref="TestImages.PagePath"/>): Metered answers it in 50 ms, Serves5xx fails 30% of it with 500 (spread evenly),
/// TwiceAsSlow takes 100 ms, TenTimesSlower 500 ms.</summary>
public enum ImageBehaviour { Healthy, NeverReady, ExitsAtStart, RunsAsRoot, Metered, Serves5xx, TenTimesSlower, TwiceAsSlow }

/// <summary>
/// Tiny images made without any public registry: a rootfs tar with Debian's static busybox serving static files
/// (/readyz, /version, /, and /data/… from the data store's mount point) with busybox httpd, imported with `docker import`, pushed to the test registry and
/// addressed by digest. The shell wrapper turns SIGTERM into a clean exit, as a real app does.
/// </summary>
public static class TestImages
{
    const string Busybox = "/bin/busybox";
    /// <summary>busybox httpd runs CGI only under /cgi-bin, so the metered images serve their page and metrics there.</summary>
    public const string PagePath = "/cgi-bin/page";
    public const string MetricsPath = "/cgi-bin/metrics";

    /// <param name="dockerConfig">A docker client config folder to push with (a registry login), else the default one.</param>
    /// <param name="dockerHost">The engine to build and push with (DOCKER_HOST), else the machine's.</param>
    public static async Task<PinnedImage> BuildAndPushAsync(string registry, string repository, string version, ImageBehaviour behaviour, string? dockerConfig = null,
        string? dockerHost = null)
    {
        var docker = Tools.Require("docker", "docker.io");
        var reference = $"{registry}/{repository}:{version}";
        await BuildAsync(reference, version, behaviour, dockerHost);
        string[] engine = dockerHost is null ? [] : ["--host", dockerHost];
        var push = await Tools.RunChecked(docker, [.. engine, .. dockerConfig is null ? [] : new[] { "--config", dockerConfig }, "push", reference]);
        var digest = Regex.Match(push, "digest: (sha256:[0-9a-f]{64})").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(digest), $"no digest in docker push output: {push}");
        // Drop the local copy so a deploy really pulls from the registry.
        await Tools.RunChecked(docker, [.. engine, "image", "rm", reference]);
        return new PinnedImage(version, $"{registry}/{repository}", digest, Commit: Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(version))).ToLowerInvariant());
    }

    /// <summary>Imports the image as <paramref name="reference"/> into the engine (DOCKER_HOST <paramref name="dockerHost"/>,
    /// else the machine's); returns its image id.</summary>
    public static async Task<string> BuildAsync(string reference, string version, ImageBehaviour behaviour, string? dockerHost = null)
    {
        if (!File.Exists(Busybox))
            Assert.Fail($"{Busybox} is required to build test images but is missing: apt-get install busybox-static");
        var docker = Tools.Require("docker", "docker.io");
        var dir = Directory.CreateTempSubdirectory("hdt-image-").FullName;
        try
        {
            var tar = Path.Combine(dir, "rootfs.tar");
            WriteRootfs(tar, version, behaviour);
            var cmd = behaviour == ImageBehaviour.ExitsAtStart
                ? """CMD ["/bin/busybox", "sh", "-c", "echo 'fatal: cannot start' >&2; exit 3"]"""
                : """CMD ["/bin/busybox", "sh", "-c", "/bin/busybox httpd -f -p 8080 -h /www & pid=$!; trap 'kill $pid; exit 0' TERM; echo listening on 8080; wait"]""";
            var args = new List<string>(dockerHost is null ? [] : ["--host", dockerHost]) { "import", "--change", cmd, "--change", "EXPOSE 8080" };
            if (behaviour != ImageBehaviour.RunsAsRoot) args.AddRange(["--change", "USER 65534:65534"]);
            args.AddRange([tar, reference]);
            return (await Tools.RunChecked(docker, [.. args])).Trim();
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
        // The data store's mount point, owned by the image's user as an app image's is (a new volume takes its owner),
        // and served read-only as /data/… so a test can see what a release phase wrote there.
        tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "data/") { Mode = (UnixFileMode)0b111_101_101, ModificationTime = time, Uid = 65534, Gid = 65534 });
        tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "www/data") { LinkName = "/data", ModificationTime = time });
        var text = (string s) => System.Text.Encoding.UTF8.GetBytes(s);
        var readable = (UnixFileMode)0b110_100_100;
        FileEntry("www/version", text(version + "\n"), readable);
        FileEntry("www/index.html", text($"<!doctype html><title>test app {version}</title><p>{version}</p>\n"), readable);
        if (behaviour != ImageBehaviour.NeverReady)
            FileEntry("www/readyz", text("ready\n"), readable);
        var (failPercent, seconds) = behaviour switch
        {
            ImageBehaviour.Metered => (0, "0.05"),
            ImageBehaviour.Serves5xx => (30, "0.05"),
            ImageBehaviour.TenTimesSlower => (0, "0.5"),
            ImageBehaviour.TwiceAsSlow => (0, "0.1"),
            _ => (-1, ""),
        };
        if (failPercent < 0) return;
        Dir("www/cgi-bin/");
        var executable = (UnixFileMode)0b111_101_101;
        FileEntry("www/cgi-bin/page", text(Page(version, failPercent, seconds)), executable);
        FileEntry("www/cgi-bin/metrics", text(Metrics), executable);
    }

    /// <summary>Each request appends "code seconds" to a log in /tmp (appends of one short line do not interleave).
    /// The failing share is spread evenly over the requests logged so far (for 30%: the 1st, 5th, 8th, 11th, …), not
    /// drawn at random: a bake of a few requests on a loaded machine still sees its 500s (at random, 15 requests saw
    /// none once in about 200 runs).
    /// Content-Length lets the proxy keep the client's connection open (a body ended by close would end it).</summary>
    static string Page(string version, int failPercent, string seconds) => $$"""
        #!/bin/busybox sh
        n=0
        if [ -f /tmp/requests ]; then n=$(/bin/busybox wc -l < /tmp/requests); fi
        code=200
        if [ $((n * {{failPercent}} % 100)) -lt {{failPercent}} ]; then code=500; fi
        /bin/busybox usleep {{(int)(double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture) * 1_000_000)}}
        echo "$code {{seconds}}" >> /tmp/requests
        if [ "$code" = 500 ]; then
          printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nfailed\n'
        else
          printf 'Content-Type: text/plain\r\nContent-Length: {{version.Length + 1}}\r\n\r\n{{version}}\n'
        fi

        """;

    /// <summary>The app's metric names and labels, from the request log; plus a series for the metrics route itself,
    /// slow and huge, which the bake must leave out.</summary>
    const string Metrics = """
        #!/bin/busybox sh
        printf 'Content-Type: text/plain; version=0.0.4\r\n\r\n'
        /bin/busybox touch /tmp/requests
        /bin/busybox awk -v les="0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10" '
          { n[$1]++; d[$2]++; total++ }
          END {
            print "# TYPE http_requests_received_total counter"
            for (c in n) printf "http_requests_received_total{method=\"GET\",route=\"/cgi-bin/page\",code=\"%s\"} %d\n", c, n[c]
            print "http_requests_received_total{method=\"GET\",route=\"/cgi-bin/metrics\",code=\"503\"} 100000"
            print "# TYPE http_request_duration_seconds histogram"
            k = split(les, le, " ")
            for (i = 1; i <= k; i++) {
              c = 0
              for (s in d) if (s + 0 <= le[i] + 0) c += d[s]
              printf "http_request_duration_seconds_bucket{method=\"GET\",route=\"/cgi-bin/page\",le=\"%s\"} %d\n", le[i], c
              printf "http_request_duration_seconds_bucket{method=\"GET\",route=\"/cgi-bin/metrics\",le=\"%s\"} 0\n", le[i]
            }
            printf "http_request_duration_seconds_bucket{method=\"GET\",route=\"/cgi-bin/page\",le=\"+Inf\"} %d\n", total
            print "http_request_duration_seconds_bucket{method=\"GET\",route=\"/cgi-bin/metrics\",le=\"+Inf\"} 100000"
          }' /tmp/requests

        """;
}
