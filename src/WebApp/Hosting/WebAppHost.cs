using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;
using WebApp.Health;
using WebApp.Metrics;

namespace WebApp.Hosting;

/// <summary>
/// Builds the app: services, middleware and endpoints. Program.cs runs it; tests use it to start the same app on
/// real Kestrel with extra test-only services or endpoints.
/// </summary>
public static class WebAppHost
{
    public static WebApplication Create(string[] args) => Create(new WebApplicationOptions { Args = args });

    public static WebApplication Create(WebApplicationOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = options.Args,
            // Razor Pages finds its compiled pages and MapStaticAssets its manifest by application name, which would
            // otherwise be the entry assembly (the test host, when tests start the app).
            ApplicationName = options.ApplicationName ?? typeof(WebAppHost).Assembly.GetName().Name,
            ContentRootPath = options.ContentRootPath,
            EnvironmentName = options.EnvironmentName,
            WebRootPath = options.WebRootPath,
        });
        AddServices(builder);
        configure?.Invoke(builder);
        var app = builder.Build();
        UsePipeline(app);
        return app;
    }

    private static void AddServices(WebApplicationBuilder builder)
    {
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
        });

        // No "Server: Kestrel".
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        var services = builder.Services;
        services.AddRazorPages();
        services.AddPageCaching();
        services.Configure<RouteOptions>(routes => routes.LowercaseUrls = true);

        // Keys stay in memory (see InMemoryKeyRepository). Encrypting them "at rest" would protect nothing, and the
        // null encryptor says so explicitly instead of logging a warning on every start.
        services.AddDataProtection();
        services.Configure<KeyManagementOptions>(keys =>
        {
            keys.XmlRepository = new InMemoryKeyRepository();
            keys.XmlEncryptor = new NullXmlEncryptor();
        });

        services.AddOptions<DataStoreOptions>().Bind(builder.Configuration.GetSection(DataStoreOptions.Section));
        services.AddOptions<ShutdownOptions>().Bind(builder.Configuration.GetSection(ShutdownOptions.Section));
        services.AddSingleton<IConfigureOptions<HostOptions>>(sp => new ConfigureOptions<HostOptions>(host =>
            host.ShutdownTimeout = sp.GetRequiredService<IOptions<ShutdownOptions>>().Value.Timeout));
        services.AddHostedService<ReadinessShutdown>();

        services.AddSingleton(sp => AppInfo.FromAssembly(typeof(AppInfo).Assembly,
            sp.GetRequiredService<IHostEnvironment>().EnvironmentName, AppInfo.CurrentProcessStartTime()));
        services.AddSingleton<ReadinessState>();

        services.AddOptions<MetricsOptions>().Bind(builder.Configuration.GetSection(MetricsOptions.Section));
        services.AddSingleton<AppMetrics>();
        services.AddSingleton(sp => sp.GetRequiredService<AppMetrics>().Factory);
    }

    private static void UsePipeline(WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value.Enabled
            ? app.Services.GetRequiredService<AppMetrics>()
            : null;
        app.Services.GetRequiredService<ReadinessState>().FollowLifetime(app.Lifetime);

        app.UseMiddleware<ResponseHeaders>();
        if (metrics is not null)
            app.UseMiddleware<RequestMetrics>();
        if (!app.Environment.IsDevelopment())
            app.UseExceptionHandler("/error");
        app.UseStatusCodePagesWithReExecute("/status/{0}");
        app.UseRouting();
        if (metrics is not null)
            app.Use(RouteLabel.Capture);
        app.UseOutputCache();

        // Fingerprinted files get "max-age=31536000, immutable" from MapStaticAssets, the others "no-cache".
        app.MapStaticAssets();
        app.MapRazorPages().WithStaticAssets().CacheOutput(PageCaching.PolicyName);
        app.MapOperationalEndpoints(metrics);
    }
}
