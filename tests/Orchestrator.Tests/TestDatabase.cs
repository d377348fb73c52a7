namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>The PostgreSQL the tests use: <c>SD_TEST_DATABASE</c> (set by .ci/run and deploy/local/postgres.sh), else the local default.</summary>
public static class TestDatabase
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("SD_TEST_DATABASE")
        ?? "Host=127.0.0.1;Port=55432;Username=postgres;Database=spectral";
}
