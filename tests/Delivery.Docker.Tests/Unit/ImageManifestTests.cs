using Delivery.Core;

namespace Delivery.Docker.Tests.Unit;

public sealed class ImageManifestTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("image-manifest-").FullName;
    const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task Round_trips_through_camel_case_json()
    {
        var path = Path.Combine(dir, "artifacts", "image.json");
        var manifest = new ImageManifest("127.0.0.1:5000/webapp", ["1.2.3", "sha-abc1234"], Digest, "1.2.3", "abc1234def", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));

        await manifest.WriteAsync(path);
        var text = await File.ReadAllTextAsync(path);
        var read = await ImageManifest.ReadAsync(path);

        Assert.Contains("\"repository\": \"127.0.0.1:5000/webapp\"", text);
        Assert.Contains("\"digest\": \"" + Digest + "\"", text);
        Assert.Contains("\"created\": \"2025-01-02T03:04:05+00:00\"", text);
        Assert.DoesNotContain("reference", text);
        Assert.Equal(manifest.Repository, read.Repository);
        Assert.Equal(manifest.Tags, read.Tags);
        Assert.Equal(manifest.Digest, read.Digest);
        Assert.Equal(manifest.Version, read.Version);
        Assert.Equal(manifest.Commit, read.Commit);
        Assert.Equal(manifest.Created, read.Created);
        Assert.Equal("127.0.0.1:5000/webapp@" + Digest, read.Reference);
        Assert.Null(read.Sbom);
        Assert.DoesNotContain("sbom", text);
    }

    [Fact]
    public async Task Names_the_sbom_when_there_is_one()
    {
        var path = Path.Combine(dir, "image.json");
        var sbom = "sha256:" + new string('e', 64);
        await new ImageManifest("webapp", ["1"], Digest, "1.0.0", "abc", DateTimeOffset.UnixEpoch, sbom).WriteAsync(path);

        Assert.Contains($"\"sbom\": \"{sbom}\"", await File.ReadAllTextAsync(path));
        Assert.Equal(sbom, (await ImageManifest.ReadAsync(path)).Sbom);
    }

    [Fact]
    public async Task A_missing_file_says_to_push_first()
    {
        var error = await Assert.ThrowsAsync<DeliveryException>(() => ImageManifest.ReadAsync(Path.Combine(dir, "none.json")));
        Assert.Contains("build and push the image first", error.Message);
    }

    [Theory]
    [InlineData("""{"repository":"webapp","tags":["1"],"digest":"sha256:abc","version":"1","commit":"a","created":"2025-01-01T00:00:00Z"}""", "digest")]
    [InlineData("""{"repository":"Bad Repo","tags":["1"],"digest":"DIGEST","version":"1","commit":"a","created":"2025-01-01T00:00:00Z"}""", "repository")]
    [InlineData("""{"repository":"webapp","tags":["a/b"],"digest":"DIGEST","version":"1","commit":"a","created":"2025-01-01T00:00:00Z"}""", "tag")]
    [InlineData("""{"repository":"webapp","tags":["1"],"digest":"DIGEST","version":"","commit":"a","created":"2025-01-01T00:00:00Z"}""", "version")]
    [InlineData("""{"repository":"webapp","tags":["1"],"digest":"DIGEST","version":"1","commit":"a","created":"2025-01-01T00:00:00Z","sbom":"md5:1"}""", "sbom")]
    [InlineData("""{"repository": """, "not valid")]
    public async Task Invalid_content_is_a_one_line_error(string json, string mentions)
    {
        var path = Path.Combine(dir, "image.json");
        await File.WriteAllTextAsync(path, json.Replace("DIGEST", Digest));
        var error = await Assert.ThrowsAsync<DeliveryException>(() => ImageManifest.ReadAsync(path));
        Assert.Contains(mentions, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
