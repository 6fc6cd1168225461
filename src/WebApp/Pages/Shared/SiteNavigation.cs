namespace WebApp.Pages.Shared;

/// <summary>The pages in the navbar, in order. "Page" is the Razor page name the link points to.</summary>
public static class SiteNavigation
{
    public sealed record NavLink(string Page, string Title);

    public static readonly IReadOnlyList<NavLink> Links =
    [
        new("/Index", "Home"),
        new("/Cloud", "Using the Cloud"),
        new("/BestPractices", "Best Practices"),
    ];
}
