namespace WebApp.Metrics;

/// <summary>
/// The <c>route</c> label: the route template of the first endpoint the request matched ("/", "/cloud",
/// "/metrics"), <c>static</c> for every static file, <c>unmatched</c> when nothing matched. Never the raw path, so
/// unknown URLs and fingerprinted file names (a new set every release) cannot add series.
/// </summary>
public static class RouteLabel
{
    public const string Name = "route";
    public const string Unmatched = "unmatched";
    public const string StaticFiles = "static";

    /// <summary>
    /// Middleware for right after UseRouting. It keeps the FIRST match, so a request re-executed into "/error" or
    /// "/status/404" stays counted under the route it hit.
    /// </summary>
    public static RequestDelegate Capture(RequestDelegate next) => context =>
    {
        if (context.Features.Get<MatchedRoute>() is null)
            context.Features.Set(new MatchedRoute(For(context.GetEndpoint())));
        return next(context);
    };

    /// <summary>The label of a finished request.</summary>
    public static string Of(HttpContext context) => context.Features.Get<MatchedRoute>()?.Route ?? Unmatched;

    public static string For(Endpoint? endpoint)
    {
        if (endpoint is not RouteEndpoint routeEndpoint)
            return Unmatched;
        if (routeEndpoint.Metadata.GetMetadata<Microsoft.AspNetCore.StaticAssets.StaticAssetDescriptor>() is not null)
            return StaticFiles;
        var template = routeEndpoint.RoutePattern.RawText ?? "";
        return template.StartsWith('/') ? template : "/" + template;
    }

    private sealed record MatchedRoute(string Route);
}
