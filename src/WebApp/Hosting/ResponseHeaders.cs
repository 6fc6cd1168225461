using Microsoft.Extensions.Primitives;

namespace WebApp.Hosting;

/// <summary>
/// Security headers on every response, and <c>no-store</c> on any response whose endpoint chose no cache policy
/// (errors, 404s, <c>/metrics</c>). Set when the response starts, so responses served from the output cache and
/// error pages, whose headers the exception handler clears, get them too.
/// </summary>
public sealed class ResponseHeaders(RequestDelegate next)
{
    /// <summary>Only this origin's files: no inline scripts or styles, no framing. Bootstrap's icons are data: URLs.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public const string ReferrerPolicy = "strict-origin-when-cross-origin";

    public const string PermissionsPolicy =
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    public const string DefaultCacheControl = "no-store";

    private static readonly StringValues Csp = ContentSecurityPolicy;
    private static readonly StringValues NoSniff = "nosniff";
    private static readonly StringValues Referrer = ReferrerPolicy;
    private static readonly StringValues Permissions = PermissionsPolicy;
    private static readonly StringValues NoStore = DefaultCacheControl;

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpResponse)state).Headers;
            headers.ContentSecurityPolicy = Csp;
            headers.XContentTypeOptions = NoSniff;
            headers["Referrer-Policy"] = Referrer;
            headers["Permissions-Policy"] = Permissions;
            if (StringValues.IsNullOrEmpty(headers.CacheControl))
                headers.CacheControl = NoStore;
            return Task.CompletedTask;
        }, context.Response);
        return next(context);
    }
}
