using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace SpectralDiffusion.Orchestrator.Hosting;

/// <summary>The gRPC health service reports NOT_SERVING while PostgreSQL cannot answer <c>SELECT 1</c> (no retries: it reports the present).</summary>
public sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (NpgsqlException e)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL unreachable", e);
        }
    }
}
