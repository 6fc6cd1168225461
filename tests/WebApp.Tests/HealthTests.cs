using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WebApp.Health;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

public sealed class ReadinessStateTests
{
    [Fact]
    public void Starts_not_ready_becomes_ready_when_started_and_never_again_once_draining()
    {
        var state = new ReadinessState();
        Assert.Equal(ReadinessStage.Starting, state.Stage);
        Assert.False(state.IsReady);

        state.MarkStarted();
        Assert.Equal(ReadinessStage.Ready, state.Stage);
        Assert.True(state.IsReady);

        state.MarkDraining();
        state.MarkStarted();
        Assert.Equal(ReadinessStage.Draining, state.Stage);
        Assert.False(state.IsReady);
    }

    [Fact]
    public void Draining_before_startup_completes_stays_draining()
    {
        var state = new ReadinessState();
        state.MarkDraining();
        state.MarkStarted();
        Assert.Equal(ReadinessStage.Draining, state.Stage);
    }
}

public sealed class HealthEndpointTests(WebAppFactory factory) : IClassFixture<WebAppFactory>
{
    [Fact]
    public async Task Liveness_and_readiness_answer_200_once_the_app_has_started()
    {
        var client = factory.CreateClient();

        using var live = await client.GetAsync("/healthz");
        using var ready = await client.GetAsync("/readyz");
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/readyz"));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", (await ready.Content.ReadAsStringAsync()).Trim());
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.True(ready.Headers.CacheControl?.NoStore);
    }
}

/// <summary>Readiness across the host lifecycle, on real Kestrel, with test gates holding startup and shutdown.</summary>
public sealed class ReadinessLifecycleTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Readiness_is_503_while_startup_has_not_completed_and_200_after()
    {
        var gate = new LifecycleGate(holdStopping: false);
        await using var app = KestrelApp.Create(configure: b => b.Services.AddSingleton<IHostedService>(gate));
        await using var release = gate;
        await app.BeginStartAsync();
        await gate.StartedReached.Task.WaitAsync(HangGuard);
        using var client = app.CreateClient();

        using (var notYet = await client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notYet.StatusCode);
            Assert.Equal("starting", (await notYet.Content.ReadAsStringAsync()).Trim());
        }
        using (var live = await client.GetAsync("/healthz"))
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        gate.ReleaseStarted.SetResult();
        await app.StartTask!.WaitAsync(HangGuard);

        using var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Readiness_turns_503_when_shutdown_begins_while_in_flight_requests_still_complete()
    {
        var gate = new LifecycleGate(holdStopping: true);
        var slowEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowRelease = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = KestrelApp.Create(configure: b => b.Services.AddSingleton<IHostedService>(gate));
        await using var release = gate;
        await using var releaseSlow = new ReleaseOnDispose(slowRelease);
        app.App.MapGet("/test/slow", async () =>
        {
            slowEntered.SetResult();
            await slowRelease.Task;
            return Results.Text("finished");
        });
        await app.BeginStartAsync();
        gate.ReleaseStarted.SetResult();
        await app.StartTask!.WaitAsync(HangGuard);
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        var slowRequest = client.GetAsync("/test/slow");
        await slowEntered.Task.WaitAsync(HangGuard);
        // What SIGTERM does: signal ApplicationStopping, then stop the host.
        app.App.Lifetime.StopApplication();
        var stopping = Task.Run(() => app.App.StopAsync());
        await gate.StoppingReached.Task.WaitAsync(HangGuard);

        // Shutdown has begun but the listener is still open: readiness must already say no.
        using (var draining = await NewConnectionGet(app.BaseAddress, "/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, draining.StatusCode);
            Assert.Equal("draining", (await draining.Content.ReadAsStringAsync()).Trim());
        }

        gate.ReleaseStopping.SetResult();
        await WaitUntilListenerClosed(app.BaseAddress);
        Assert.False(slowRequest.IsCompleted, "the in-flight request must still be running when the listener closes");

        slowRelease.SetResult();
        using var slowResponse = await slowRequest.WaitAsync(HangGuard);
        Assert.Equal(HttpStatusCode.OK, slowResponse.StatusCode);
        Assert.Equal("finished", await slowResponse.Content.ReadAsStringAsync());
        await stopping.WaitAsync(HangGuard);
    }

    private static async Task<HttpResponseMessage> NewConnectionGet(Uri baseAddress, string path)
    {
        using var client = new HttpClient { BaseAddress = baseAddress };
        return await client.GetAsync(path);
    }

    private static async Task WaitUntilListenerClosed(Uri baseAddress)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        while (true)
        {
            try
            {
                using var client = new HttpClient { BaseAddress = baseAddress };
                using var response = await client.GetAsync("/healthz", guard.Token);
            }
            catch (HttpRequestException)
            {
                return;
            }
            await Task.Delay(20, guard.Token);
        }
    }

    /// <summary>Sets a gate when disposed, so a failing test never leaves the host waiting on it.</summary>
    private sealed class ReleaseOnDispose(TaskCompletionSource gate) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            gate.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Holds the host after all services started (before ApplicationStarted) and, if asked, when stopping begins.
    /// Disposing releases both, so a failing test does not leave the host waiting.
    /// </summary>
    private sealed class LifecycleGate(bool holdStopping) : IHostedLifecycleService, IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            ReleaseStarted.TrySetResult();
            ReleaseStopping.TrySetResult();
            return ValueTask.CompletedTask;
        }

        public TaskCompletionSource StartedReached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource ReleaseStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource StoppingReached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource ReleaseStopping { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task StartedAsync(CancellationToken cancellationToken)
        {
            StartedReached.TrySetResult();
            await ReleaseStarted.Task.WaitAsync(cancellationToken);
        }

        public async Task StoppingAsync(CancellationToken cancellationToken)
        {
            StoppingReached.TrySetResult();
            if (holdStopping)
                await ReleaseStopping.Task.WaitAsync(cancellationToken);
        }

        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
