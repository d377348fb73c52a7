namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>One fresh database and one server per test class (xunit class fixture); tests in a class run one at a time.</summary>
public class ServerFixture : IAsyncLifetime
{
    public FreshDatabase Database { get; private set; } = null!;
    public OrchestratorServer Server { get; private set; } = null!;

    protected virtual IDictionary<string, string?> Overrides => new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateFreshAsync();
        Server = await OrchestratorServer.StartAsync(Database, Overrides);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }
}
