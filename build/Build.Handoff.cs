using BuildGraph;
using Delivery.Core;

// The image handed from the CI build job to the push job: the build job exports what it built and smoke-tested, the
// push job loads it and checks that its id is the one DockerBuild recorded, then pushes those bits, never a rebuild.
partial class Build
{
    AbsolutePath ImageArchiveFile => ArtifactsDirectory / "image.tar";

    Target ExportImage => _ => _
        .Description("Writes the built image with its tags to artifacts/image.tar (the engine's image export), for a later job to load")
        .DependsOn(DockerBuild)
        .After(SmokeTest)
        .Executes(async () =>
        {
            var built = await ReadBuiltImage();
            await using (var archive = File.Create(ImageArchiveFile))
                await Docker.SaveImagesAsync(built.Tags.Select(tag => $"{built.Repository}:{tag}").ToList(), archive, CancellationToken);
            var size = new FileInfo(ImageArchiveFile).Length;
            Log.Information($"Exported {built.ImageId} ({string.Join(", ", built.Tags)}) to {Path.GetRelativePath(RootDirectory, ImageArchiveFile)}, {size / 1_000_000} MB");
            ReportSummary($"{built.ImageId[..19]}, {size / 1_000_000} MB");
        });

    Target ImportImage => _ => _
        .Description("Loads artifacts/image.tar into the engine and checks that its image id is the one recorded in artifacts/image-build.json")
        .DependsOn(Prerequisites)
        .Before(SmokeTest, Push)
        .Executes(async () =>
        {
            var built = await ReadBuiltImage();
            if (!ImageArchiveFile.FileExists)
                throw new DeliveryException($"{Path.GetRelativePath(RootDirectory, ImageArchiveFile)} does not exist: run ./build.sh ExportImage where the image was built");
            var loaded = await Docker.LoadVerifiedAsync(ImageArchiveFile, built.Repository, built.Tags, built.ImageId, CancellationToken);
            Log.Information($"Loaded {string.Join(", ", loaded)}; image id {built.ImageId} as recorded by DockerBuild");
            ReportSummary($"{built.ImageId[..19]}, id as recorded");
        });
}
