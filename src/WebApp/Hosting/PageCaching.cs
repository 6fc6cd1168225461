using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc.Filters;

namespace WebApp.Hosting;

/// <summary>
/// Pages are the same for every request of one running release (the footer shows its version and start time), so
/// they are rendered once and then served from the output cache. Browsers get <c>no-cache</c> with an ETag of the
/// running release: they revalidate every time and get a 304 from the cache while the release runs.
/// </summary>
public static class PageCaching
{
    public const string PolicyName = "pages";
    public const string CacheControl = "no-cache";

    /// <summary>
    /// The query string is ignored (pages read none), so <c>?utm_source=…</c> cannot multiply entries; the Host header
    /// still can, hence the size limit.
    /// </summary>
    public static IServiceCollection AddPageCaching(this IServiceCollection services)
    {
        services.AddOutputCache(cache =>
        {
            cache.SizeLimit = 16 * 1024 * 1024;
            cache.AddPolicy(PolicyName, page => page.Expire(TimeSpan.FromHours(1)).SetVaryByQuery([]));
        });
        services.AddSingleton<PageValidators>();
        services.Configure<Microsoft.AspNetCore.Mvc.MvcOptions>(mvc => mvc.Filters.AddService<PageValidators>());
        return services;
    }

    /// <summary>"…" from the version, commit, environment and start time: what makes one release's pages differ.</summary>
    public static string ETagFor(AppInfo info)
    {
        var identity = string.Join('\n', info.Version, info.Commit, info.Environment, info.StartedAtIso);
        return "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..20] + "\"";
    }
}

/// <summary>Sets the browser cache headers on page results (before the output cache stores them).</summary>
internal sealed class PageValidators(AppInfo info) : IResultFilter
{
    private readonly string _etag = PageCaching.ETagFor(info);

    /// <summary>Only for 200s: error and status pages (404) keep the default no-store.</summary>
    public void OnResultExecuting(ResultExecutingContext context)
    {
        var response = context.HttpContext.Response;
        if (response.StatusCode != StatusCodes.Status200OK)
            return;
        response.Headers.CacheControl = PageCaching.CacheControl;
        response.Headers.ETag = _etag;
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }
}
