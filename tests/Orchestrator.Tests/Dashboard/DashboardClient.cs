namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>The dashboard over plain HTTP, as a script reads it: the key in the x-api-key header (none when null), redirects not followed.</summary>
public static class DashboardClient
{
    public static HttpClient Create(string dashboard, string? key = OrchestratorServer.ReadKey)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(dashboard) };
        if (key is not null) client.DefaultRequestHeaders.Add("x-api-key", key);
        return client;
    }
}
