using Prometheus;
using WebApp.Health;
using WebApp.Metrics;

namespace WebApp.Hosting;

/// <summary>Endpoints for machines: liveness, readiness, version, the data store's migration marker and Prometheus metrics.</summary>
public static class OperationalEndpoints
{
    /// <param name="metrics">Null when metrics are off: then there is no <c>/metrics</c>.</param>
    public static IEndpointRouteBuilder MapOperationalEndpoints(this IEndpointRouteBuilder endpoints, AppMetrics? metrics)
    {
        string[] getOrHead = [HttpMethods.Get, HttpMethods.Head];

        // Liveness: answering at all is the signal.
        endpoints.MapMethods("/healthz", getOrHead, (HttpContext context) =>
        {
            NoStore(context);
            return Results.Text("ok\n");
        });

        endpoints.MapMethods("/readyz", getOrHead, (HttpContext context, ReadinessState readiness) =>
        {
            NoStore(context);
            var stage = readiness.Stage;
            return stage == ReadinessStage.Ready
                ? Results.Text("ready\n")
                : Results.Text(stage.ToString().ToLowerInvariant() + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        });

        endpoints.MapGet("/version", (HttpContext context, AppInfo info) =>
        {
            NoStore(context);
            return Results.Json(new VersionDocument(info.Version, info.Commit, info.Environment, info.StartedAtIso));
        });

        // Read on each request: a release phase of the next deploy may write the store while this release serves.
        endpoints.MapGet("/release", (HttpContext context, AppInfo info, Microsoft.Extensions.Options.IOptions<DataStoreOptions> store) =>
        {
            NoStore(context);
            var path = store.Value.Path;
            return Results.Json(new DataStore.ReleaseDocument(info.Version, path, Directory.Exists(path), DataStore.ReadMarker(path)));
        });

        // No Cache-Control of its own: ResponseHeaders makes it no-store.
        if (metrics is not null)
            endpoints.MapMetrics(settings => settings.Registry = metrics.Registry);

        return endpoints;
    }

    private static void NoStore(HttpContext context) => context.Response.Headers.CacheControl = "no-store";

    public sealed record VersionDocument(
        [property: System.Text.Json.Serialization.JsonPropertyName("version")] string Version,
        [property: System.Text.Json.Serialization.JsonPropertyName("commit")] string Commit,
        [property: System.Text.Json.Serialization.JsonPropertyName("environment")] string Environment,
        [property: System.Text.Json.Serialization.JsonPropertyName("startedAt")] string StartedAt);
}
