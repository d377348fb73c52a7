using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.RankLogs;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// <c>GET /ui/jobs/{id}/logs?after=N[&amp;attempt=A][&amp;rank=R]</c>: the job's next log lines (at most a page) after the
/// cursor, of one attempt or rank when given, as JSON, for the job page's Logs section, which polls it while the job runs.
/// <c>ended</c> says the job has ended (the page stops polling once a read after the end brings nothing new); <c>attempt</c>
/// is the job's latest attempt, so the page can offer attempts that started after it was drawn. An unknown job, attempt or
/// rank is 404 naming it.
/// </summary>
public static class JobLogsEndpoint
{
    public const string PathTemplate = DashboardSetup.PathBase + "/jobs/{jobId:guid}/logs";

    public static string Path(Guid jobId) => $"{DashboardSetup.PathBase}/jobs/{jobId}/logs";

    public sealed record Line(long Id, int Attempt, int Rank, long Sequence, DateTime Time, string Level, string Text);
    public sealed record Page(IReadOnlyList<Line> Lines, bool Ended, int Attempt);

    public static async Task<IResult> ReadAsync(Guid jobId, long? after, int? attempt, int? rank, LogReader reader, CancellationToken cancellation)
    {
        var filter = new LogFilter(jobId, attempt, rank);
        // Whether the job has ended is read before its lines, so "ended" never hides a line stored in between.
        LogJob job;
        try { job = await reader.CheckAsync(filter, cancellation); }
        catch (OrchestratorException e) when (e.Kind == OrchestratorErrorKind.NotFound) { return Results.NotFound(e.Message); }
        var lines = await reader.PageAsync(filter, after ?? 0, LogReader.PageLines, cancellation);
        return Results.Json(new Page(lines.Select(l => new Line(l.Id, l.Attempt, l.Rank, l.Sequence, l.Time, l.Level, l.Text)).ToList(), job.Ended, job.Attempt));
    }
}
