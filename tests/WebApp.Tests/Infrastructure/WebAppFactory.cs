using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace WebApp.Tests.Infrastructure;

/// <summary>The app on the in-memory test server, in the Staging environment (error pages as in production).</summary>
public sealed class WebAppFactory : WebApplicationFactory<Program>
{
    public const string Environment = "Staging";

    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        builder.UseEnvironment(Environment);
}
