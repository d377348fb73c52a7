using SpectralDiffusion.Orchestrator.Dashboard;

namespace SpectralDiffusion.Orchestrator.Hosting;

/// <summary>An orchestrator started in this process from explicit settings (tests, benchmarks); <c>serve</c> uses the same setup.</summary>
public static class OrchestratorHost
{
    /// <summary>Builds, maps and starts the server; returns it with the address Kestrel bound (Orchestrator:Port 0 picks a free port).</summary>
    public static async Task<(WebApplication App, string Address)> StartAsync(IEnumerable<KeyValuePair<string, string?>> settings,
        CancellationToken cancellation = default)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Embedded",
            // The dashboard's pages are found in the application assembly: this one, whoever hosts it (a test runner, a benchmark).
            ApplicationName = typeof(OrchestratorHost).Assembly.GetName().Name,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddOrchestrator();
        var app = builder.Build();
        app.MapOrchestrator();
        await app.StartAsync(cancellation);
        return (app, app.Urls.First());
    }

    /// <summary>Where the web dashboard is served (its pages are under <c>/ui</c>).</summary>
    public static string DashboardAddress(WebApplication app) => DashboardSetup.Address(app);
}
