using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SpectralDiffusion.Orchestrator.Standby;

/// <summary>Readiness: only the active orchestrator is ready (also while it waits on PostgreSQL to confirm its lock), so a load
/// balancer or a Kubernetes Service sends clients to it alone.</summary>
public sealed class LeadershipHealthCheck(Leadership leadership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(leadership.IsServing
            ? HealthCheckResult.Healthy(leadership.IsActive ? $"active (term {leadership.Term})" : "active, waiting on PostgreSQL to confirm the lock")
            : HealthCheckResult.Unhealthy(StandbyInterceptor.StandbyMessage(leadership.ActiveAddress)));
}
