using DbUp;
using DbUp.Engine.Output;
using Polly;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>Creates the database if missing and applies the numbered scripts under Migrations/ (embedded), once each, in order.</summary>
public static class DatabaseMigrator
{
    /// <summary>Creates the database if missing (a standby needs it to wait on the active orchestrator's lock).</summary>
    public static async Task EnsureDatabaseAsync(string connectionString, ResiliencePipeline pipeline, CancellationToken cancellation) =>
        await pipeline.ExecuteAsync(_ =>
        {
            EnsureDatabase.For.PostgresqlDatabase(connectionString, new NoOpUpgradeLog());
            return ValueTask.CompletedTask;
        }, cancellation);

    public static async Task MigrateAsync(string connectionString, ResiliencePipeline pipeline, ILogger logger, CancellationToken cancellation)
    {
        await pipeline.ExecuteAsync(_ =>
        {
            EnsureDatabase.For.PostgresqlDatabase(connectionString, new NoOpUpgradeLog());
            var upgrader = DeployChanges.To.PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, name => name.Contains(".Persistence.Migrations.", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .LogToNowhere()
                .Build();
            var pending = upgrader.GetScriptsToExecute().Select(s => s.Name).ToList();
            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
                throw new InvalidOperationException($"database migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
            if (pending.Count > 0) logger.LogInformation("Applied migrations {Migrations}", pending);
            return ValueTask.CompletedTask;
        }, cancellation);
    }
}
