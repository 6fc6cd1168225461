namespace Delivery.Core.Tests;

public sealed class RestoreStampTests
{
    static RestoreStamp Stamp(TempDirectory dir) => new(dir.Path, Path.Combine(dir.Path, ".nuke", "temp", "restore.stamp"), "/usr/bin/dotnet");

    static TempDirectory Repository()
    {
        var dir = new TempDirectory();
        dir.File("Directory.Packages.props", "<Project><ItemGroup><PackageVersion Include=\"xunit\" Version=\"2.9.3\" /></ItemGroup></Project>");
        dir.File("src/App/App.csproj", "<Project Sdk=\"Microsoft.NET.Sdk\" />");
        dir.File("src/App/obj/project.assets.json", "{}");
        return dir;
    }

    [Fact]
    public void Is_current_after_a_write_until_a_project_file_changes()
    {
        using var dir = Repository();
        Assert.False(Stamp(dir).IsCurrent);
        Stamp(dir).Write();
        Assert.True(Stamp(dir).IsCurrent);

        dir.File("src/App/App.csproj", "<Project Sdk=\"Microsoft.NET.Sdk.Web\" />");

        Assert.False(Stamp(dir).IsCurrent);
    }

    [Fact]
    public void A_central_package_version_a_new_project_or_a_rewritten_assets_file_each_invalidate_it()
    {
        using var dir = Repository();
        var stamp = Stamp(dir);
        stamp.Write();
        dir.File("Directory.Packages.props", "<Project><ItemGroup><PackageVersion Include=\"xunit\" Version=\"2.9.4\" /></ItemGroup></Project>");
        Assert.False(stamp.IsCurrent);

        stamp.Write();
        dir.File("tests/App.Tests/App.Tests.csproj", "<Project Sdk=\"Microsoft.NET.Sdk\" />");
        Assert.False(stamp.IsCurrent);

        stamp.Write();
        dir.File("src/App/obj/project.assets.json", "{ \"version\": 3 }");
        Assert.False(stamp.IsCurrent);
    }

    [Fact]
    public void Source_files_do_not_invalidate_it()
    {
        using var dir = Repository();
        Stamp(dir).Write();
        dir.File("src/App/Program.cs", "System.Console.WriteLine(1);");
        Assert.True(Stamp(dir).IsCurrent);
    }

    [Fact]
    public void Another_dotnet_host_invalidates_it()
    {
        using var dir = Repository();
        Stamp(dir).Write();
        Assert.False(new RestoreStamp(dir.Path, Path.Combine(dir.Path, ".nuke", "temp", "restore.stamp"), "/opt/dotnet/dotnet").IsCurrent);
    }
}
