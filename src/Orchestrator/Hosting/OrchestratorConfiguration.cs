using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Coordination;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Retention;
using SpectralDiffusion.Orchestrator.Security;
using SpectralDiffusion.Orchestrator.Sweeps;
using SpectralDiffusion.Orchestrator.Standby;
using SpectralDiffusion.Orchestrator.Leases;
using SpectralDiffusion.Orchestrator.RankLogs;
using SpectralDiffusion.Orchestrator.Scheduling;
using SpectralDiffusion.Orchestrator.Submission;

namespace SpectralDiffusion.Orchestrator.Hosting;

/// <summary>
/// Binds the per-feature options, each kept beside the code that reads it, to the one <c>Orchestrator</c> configuration
/// section (appsettings, <c>Orchestrator__X</c> env vars, <c>--Orchestrator:X=</c>): every key stays <c>Orchestrator:X</c>.
/// Each options class checks its own bounds; a bad value stops the start-up with a message naming its key.
/// </summary>
public static class OrchestratorConfiguration
{
    public const string Section = "Orchestrator";

    public static IServiceCollection AddOrchestratorOptions(this IServiceCollection services) => services
        .AddSection<DatabaseOptions>(o => o.Problems())
        .AddSection<ArtifactOptions>(o => o.Problems())
        .AddSection<RendezvousOptions>(o => o.Problems())
        .AddSection<SecurityOptions>(o => o.Problems())
        .AddSection<SubmissionOptions>(o => o.Problems())
        .AddSection<SchedulerOptions>(o => o.Problems())
        .AddSection<LeaseOptions>(o => o.Problems())
        .AddSection<SweepOptions>(o => o.Problems())
        .AddSection<RetentionOptions>(o => o.Problems())
        .AddSection<LogOptions>(o => o.Problems())
        .AddSection<ServerOptions>(o => o.Problems())
        .AddSection<LeadershipOptions>(o => o.Problems());

    /// <summary>The options read before the container exists (Kestrel's endpoints, gRPC's message limits).</summary>
    public static T Read<T>(IConfiguration configuration) where T : new() => configuration.GetSection(Section).Get<T>() ?? new T();

    static IServiceCollection AddSection<T>(this IServiceCollection services, Func<T, IEnumerable<string>> problems) where T : class
    {
        services.AddOptions<T>().BindConfiguration(Section).ValidateOnStart();
        return services.AddSingleton<IValidateOptions<T>>(new ProblemsValidator<T>(problems));
    }

    sealed class ProblemsValidator<T>(Func<T, IEnumerable<string>> problems) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options) =>
            problems(options).ToList() is { Count: > 0 } found ? ValidateOptionsResult.Fail(found) : ValidateOptionsResult.Success;
    }
}
