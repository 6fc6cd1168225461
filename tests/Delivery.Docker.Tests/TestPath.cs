namespace Delivery.Docker.Tests;

/// <summary>Credential helpers are found on PATH, as the docker CLI finds them. Tests that put a helper there take
/// this lock, so parallel tests never restore each other's PATH from under them.</summary>
public static class TestPath
{
    static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<IAsyncDisposable> PrependAsync(string directory)
    {
        await Gate.WaitAsync();
        var original = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", directory + ":" + original);
        return new Restore(original);
    }

    public static IDisposable Prepend(string directory)
    {
        Gate.Wait();
        var original = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", directory + ":" + original);
        return new Restore(original);
    }

    sealed class Restore(string? original) : IAsyncDisposable, IDisposable
    {
        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        public void Dispose()
        {
            Environment.SetEnvironmentVariable("PATH", original);
            Gate.Release();
        }
    }
}
