using SpectralDiffusion.Orchestrator.RankLogs;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// <c>GET /ui/jobs/{id}/logs?after=N</c>: the job's next log lines (at most a page) after the cursor, as JSON, for the job
/// page's Logs section, which polls it while the job runs. <c>ended</c> says the job has ended (the page stops polling
/// once a read after the end brings nothing new).
/// </summary>
public static class JobLogsEndpoint
{
    public const string PathTemplate = DashboardSetup.PathBase + "/jobs/{jobId:guid}/logs";

    public static string Path(Guid jobId) => $"{DashboardSetup.PathBase}/jobs/{jobId}/logs";

    public sealed record Line(long Id, int Attempt, int Rank, long Sequence, DateTime Time, string Level, string Text);
    public sealed record Page(IReadOnlyList<Line> Lines, bool Ended);

    public static async Task<IResult> ReadAsync(Guid jobId, long? after, LogReader reader, CancellationToken cancellation)
    {
        // Whether the job has ended is read before its lines, so "ended" never hides a line stored in between.
        if (await reader.JobAsync(jobId, cancellation) is not { } job) return Results.NotFound($"job {jobId} does not exist");
        var lines = await reader.PageAsync(new LogFilter(jobId, null, null), after ?? 0, LogReader.PageLines, cancellation);
        return Results.Json(new Page(lines.Select(l => new Line(l.Id, l.Attempt, l.Rank, l.Sequence, l.Time, l.Level, l.Text)).ToList(), job.Ended));
    }
}
