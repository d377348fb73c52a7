using Microsoft.Extensions.Options;
using Polly;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Security;

namespace SpectralDiffusion.Orchestrator.Hosting;

/// <summary>Applies the database migrations when this process becomes the active orchestrator, before anything acts on the database.</summary>
public sealed class MigrationService(IOptions<DatabaseOptions> database, IOptions<SecurityOptions> security, ResiliencePipeline pipeline, ILogger<MigrationService> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var settings = security.Value;
        if (settings.BindsLoopbackOnly && settings.ApiKeys.Count == 0)
            logger.LogWarning("No Orchestrator:ApiKeys configured: clients on this machine may call without a key (loopback only)");
        if (settings.BindsLoopbackOnly && settings.WorkerToken.Length == 0)
            logger.LogWarning("No Orchestrator:WorkerToken configured: workers on this machine may register without a token (loopback only)");
        await DatabaseMigrator.MigrateAsync(database.Value.Database, pipeline, logger, cancellationToken);
    }
}
