using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Scheduling;

namespace SpectralDiffusion.Orchestrator.Retention;

/// <summary>
/// The background retention pass: every <see cref="RetentionOptions.RetentionInterval"/> it applies the policy
/// (<see cref="GarbageCollector"/>) and logs what it freed. The first pass runs one interval after start, so an
/// orchestrator that restarts often does not collect at every start; an interval of 0 turns the pass off.
/// </summary>
public sealed class RetentionPass(GarbageCollector collector, IOptions<RetentionOptions> options, ILogger<RetentionPass> logger) : IPeriodicWork
{
    public string Name => "retention pass";

    public Task WaitAsync(CancellationToken cancellation) =>
        Task.Delay(options.Value.RetentionInterval > TimeSpan.Zero ? options.Value.RetentionInterval : Timeout.InfiniteTimeSpan, cancellation);

    bool waited;

    public async Task<int> ExecuteAsync(CancellationToken cancellation)
    {
        if (!waited || options.Value.RetentionInterval <= TimeSpan.Zero)
        {
            waited = true;
            return 0;
        }
        var report = await collector.CollectAsync(dryRun: false, cancellation);
        if (report.FilesRemoved > 0 || report.Items.Count > 0)
            logger.LogInformation("Retention removed {Items} items and {Files} stored files, {Bytes} bytes freed",
                report.Items.Count, report.FilesRemoved, report.BytesFreed);
        return report.Items.Count;
    }
}
