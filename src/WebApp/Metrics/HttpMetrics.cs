using System.Diagnostics;

namespace WebApp.Metrics;

/// <summary>
/// Request count, duration and concurrency. Labels come from the matched endpoint's route template and a fixed
/// set of methods, never from the raw path, so unknown URLs cannot create new series.
/// </summary>
public sealed class HttpMetrics
{
    public const string UnmatchedRoute = "unmatched";
    public const string OtherMethod = "OTHER";

    private static readonly HashSet<string> KnownMethods =
        new(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"], StringComparer.Ordinal);

    public HttpMetrics(MetricRegistry registry)
    {
        RequestsReceived = registry.AddCounter("http_requests_received_total",
            "HTTP requests completed, by method, route template and status code.", "method", "route", "code");
        RequestDuration = registry.AddHistogram("http_request_duration_seconds",
            "Time from the request reaching the app to the response being complete, in seconds.",
            Histogram.DefaultDurationBuckets, "method", "route");
        RequestsInProgress = registry.AddGauge("http_requests_in_progress",
            "HTTP requests currently being handled.");
    }

    public Counter RequestsReceived { get; }
    public Histogram RequestDuration { get; }
    public Gauge RequestsInProgress { get; }

    public void Record(string method, string route, int statusCode, TimeSpan duration)
    {
        var methodLabel = MethodLabel(method);
        RequestsReceived.WithLabels(methodLabel, route, statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        RequestDuration.WithLabels(methodLabel, route).Observe(duration.TotalSeconds);
    }

    /// <summary>Clients can send any method token; only the standard ones become label values.</summary>
    public static string MethodLabel(string method)
    {
        var upper = method.ToUpperInvariant();
        return KnownMethods.TryGetValue(upper, out var known) ? known : OtherMethod;
    }

    /// <summary>The route template of the matched endpoint ("/", "/cloud", "/metrics"), or "unmatched".</summary>
    public static string RouteLabel(Endpoint? endpoint)
    {
        if (endpoint is not RouteEndpoint routeEndpoint)
            return UnmatchedRoute;
        var template = routeEndpoint.RoutePattern.RawText ?? "";
        return template.StartsWith('/') ? template : "/" + template;
    }
}

/// <summary>
/// Records every request in <see cref="HttpMetrics"/>. It runs first, so the duration covers error and status pages
/// too; the route comes from <see cref="CaptureRoute"/>, which sits right after routing and keeps the FIRST match,
/// so a request re-executed into "/error" or "/status/404" is still counted under the route it originally hit.
/// Health and metrics endpoints are counted too, under their own routes: they are a handful of bounded series,
/// and a failing probe or scrape should be visible.
/// </summary>
public sealed class HttpMetricsMiddleware(RequestDelegate next, HttpMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var matched = new MatchedRoute();
        context.Features.Set(matched);
        var started = Stopwatch.GetTimestamp();
        metrics.RequestsInProgress.Inc();
        var failed = false;
        try
        {
            await next(context);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            metrics.RequestsInProgress.Dec();
            // An exception escaping here becomes a 500 from the server unless the response had already started.
            var status = failed && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            metrics.Record(context.Request.Method, matched.Route ?? HttpMetrics.UnmatchedRoute, status, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>Middleware for right after UseRouting: remembers the route of the first endpoint match.</summary>
    public static RequestDelegate CaptureRoute(RequestDelegate next) => context =>
    {
        if (context.Features.Get<MatchedRoute>() is { Captured: false } matched)
        {
            matched.Captured = true;
            matched.Route = HttpMetrics.RouteLabel(context.GetEndpoint());
        }
        return next(context);
    };

    private sealed class MatchedRoute
    {
        public bool Captured { get; set; }
        public string? Route { get; set; }
    }
}
