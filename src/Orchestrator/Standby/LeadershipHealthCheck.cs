using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SpectralDiffusion.Orchestrator.Standby;

/// <summary>Readiness: only the active orchestrator is ready, so a load balancer or a Kubernetes Service sends clients to it alone.</summary>
public sealed class LeadershipHealthCheck(Leadership leadership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(leadership.IsActive
            ? HealthCheckResult.Healthy($"active (term {leadership.Term})")
            : HealthCheckResult.Unhealthy(StandbyInterceptor.StandbyMessage(leadership.ActiveAddress)));
}
