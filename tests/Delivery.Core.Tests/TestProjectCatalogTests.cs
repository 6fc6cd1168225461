using Delivery.Core.Testing;

namespace Delivery.Core.Tests;

public sealed class TestProjectCatalogTests
{
    static string Project(bool isTest, string? resources = null) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            {(isTest ? "<IsTestProject>true</IsTestProject>" : "")}
            {(resources is null ? "" : $"<TestSharedResources>{resources}</TestSharedResources>")}
          </PropertyGroup>
        </Project>
        """;

    static IReadOnlyList<TestProject> Discover(TempDirectory dir)
    {
        dir.File("Delivery.Versioning.Tests/Delivery.Versioning.Tests.csproj", Project(true));
        dir.File("EndToEnd.Tests/EndToEnd.Tests.csproj", Project(true, " apt ; docker-bridges "));
        dir.File("Aws.TestEndpoint/Aws.TestEndpoint.csproj", Project(false));
        return TestProjectCatalog.Discover(dir.Path);
    }

    [Fact]
    public void Finds_only_test_projects_with_their_shared_resources()
    {
        using var dir = new TempDirectory();
        var projects = Discover(dir);

        Assert.Equal(["Delivery.Versioning.Tests", "EndToEnd.Tests"], projects.Select(p => p.Name));
        Assert.Empty(projects[0].SharedResources);
        Assert.Equal(["apt", "docker-bridges"], projects[1].SharedResources);
    }

    [Theory]
    [InlineData("Delivery.Versioning", "Delivery.Versioning.Tests")]
    [InlineData("delivery.versioning.tests", "Delivery.Versioning.Tests")]
    [InlineData("EndToEnd, Delivery.Versioning", "EndToEnd.Tests,Delivery.Versioning.Tests")]
    [InlineData("", "Delivery.Versioning.Tests,EndToEnd.Tests")]
    public void Selects_projects_by_name_with_or_without_the_suffix(string selection, string expected)
    {
        using var dir = new TempDirectory();
        Assert.Equal(expected, string.Join(",", TestProjectCatalog.Select(Discover(dir), selection).Select(p => p.Name)));
    }

    [Fact]
    public void An_unknown_name_fails_in_one_line_that_lists_the_projects()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<DeliveryException>(() => TestProjectCatalog.Select(Discover(dir), "Versioning"));
        Assert.Equal("--test-project 'Versioning' is not a test project; the test projects are Delivery.Versioning, EndToEnd", error.Message);
    }
}
