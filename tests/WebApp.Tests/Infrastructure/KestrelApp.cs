using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using WebApp.Hosting;

namespace WebApp.Tests.Infrastructure;

/// <summary>
/// The real app (same <see cref="WebAppHost"/> as Program.cs) on real Kestrel, bound to 127.0.0.1 on a port the OS
/// picks, so tests never collide with each other or with the reserved deploy ports.
/// </summary>
public sealed class KestrelApp : IAsyncDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private KestrelApp(WebApplication app) => App = app;

    public WebApplication App { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public Task? StartTask { get; private set; }

    /// <summary>Builds the app; <paramref name="configure"/> may add test-only services before it is built.</summary>
    public static KestrelApp Create(string environment = "Production", Action<WebApplicationBuilder>? configure = null)
    {
        var app = WebAppHost.Create(
            new WebApplicationOptions
            {
                Args = ["--urls", "http://127.0.0.1:0"],
                EnvironmentName = environment,
                ContentRootPath = RepositoryPaths.WebAppProject,
            },
            builder =>
            {
                // Serve wwwroot as the build left it (including its precompressed copies under obj/), as
                // Development does by default; a published app has them all under wwwroot instead.
                builder.WebHost.UseStaticWebAssets();
                configure?.Invoke(builder);
            });
        return new KestrelApp(app);
    }

    public static async Task<KestrelApp> StartAsync(string environment = "Production", Action<WebApplicationBuilder>? configure = null)
    {
        var kestrel = Create(environment, configure);
        await kestrel.BeginStartAsync();
        await kestrel.StartTask!.WaitAsync(HangGuard);
        return kestrel;
    }

    /// <summary>
    /// Starts the host without waiting for startup to finish, and returns once Kestrel is listening (which happens
    /// before ApplicationStarted when a hosted service holds startup back).
    /// </summary>
    public async Task BeginStartAsync()
    {
        StartTask = App.StartAsync();
        var addresses = App.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        using var guard = new CancellationTokenSource(HangGuard);
        while (true)
        {
            if (StartTask.IsFaulted)
                await StartTask;
            var bound = addresses.Addresses.Select(a => new Uri(a)).FirstOrDefault(u => u.Port != 0);
            if (bound is not null)
            {
                BaseAddress = bound;
                return;
            }
            await Task.Delay(20, guard.Token);
        }
    }

    public HttpClient CreateClient() => new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = BaseAddress };

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync(new CancellationTokenSource(HangGuard).Token);
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}
