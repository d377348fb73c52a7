using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Services;
using SpectralDiffusion.Orchestrator.Sweeps;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>One job as its page shows it; <see cref="SpecYaml"/> is empty when the stored spec cannot be read.</summary>
public sealed record JobPage(JobRow Job, string SpecYaml, IReadOnlyList<(string Role, Guid Job)> ModelJobs, IReadOnlyList<AttemptRow> Attempts,
    IReadOnlyList<CheckpointRow> Checkpoints, IReadOnlyList<MetricCurve> Curves, EvaluationRow? Evaluation, IReadOnlyList<JobFileRow> Files,
    JobSweepRow? Sweep);

/// <summary>A picked job with the model it trained or evaluated, the newest evaluation of that model, and that model's curves.</summary>
public sealed record CompareRun(JobRow Job, JobRow Model, EvaluationRow? Evaluation, IReadOnlyList<MetricCurve> Curves);

/// <summary>A sweep as the pages show it: its state named as a job's is (<see cref="JobStates"/>), its arms, seeds and how many jobs succeeded.</summary>
public sealed record SweepRow(Guid Id, string Name, string State, IReadOnlyList<string> Arms, IReadOnlyList<long> Seeds, int Succeeded, int Jobs,
    DateTime CreatedAt, DateTime? CancelledAt, string CancelReason);

/// <summary>One sweep's page: the sweep, its report (the one <c>orchestrator sweep report</c> prints) and its jobs.</summary>
public sealed record SweepPage(SweepRow Sweep, SweepReport Report, IReadOnlyList<JobRow> Jobs);

/// <summary>
/// Everything the dashboard's pages read, as view records: each method is one read-only transaction over
/// <see cref="DashboardQueries"/>; pages neither open connections nor see proto messages.
/// </summary>
public sealed class DashboardReader(Database database, SweepReports reports)
{
    /// <summary>Job states and types as the pages name and filter them (<c>QUEUED</c>, <c>EVALUATE</c>), in lifecycle order.</summary>
    public static readonly IReadOnlyList<string> JobStateNames = JobStates.Names<JobState>();
    public static readonly IReadOnlyList<string> JobTypeNames = JobStates.Names<JobType>();
    static readonly string EvaluateType = JobStates.Name(JobType.Evaluate);

    public Task<List<JobRow>> JobsAsync(JobFilter filter, int limit, CancellationToken cancellation) =>
        database.ReadAsync((connection, token) => DashboardQueries.JobsAsync(connection, filter, limit, token), cancellation);

    public Task<JobFileRow?> FileAsync(Guid jobId, string name, CancellationToken cancellation) =>
        database.ReadAsync((connection, token) => DashboardQueries.FileAsync(connection, jobId, name, token), cancellation);

    public Task<List<WorkerRow>> WorkersAsync(CancellationToken cancellation) => database.ReadAsync(DashboardQueries.WorkersAsync, cancellation);

    /// <summary>What each attempt of the job resolved for its run, oldest first.</summary>
    public Task<List<RunSettings>> RunSettingsAsync(Guid id, CancellationToken cancellation) =>
        database.ReadAsync((connection, token) => RunSettingsRepository.ListAsync(connection, id, token), cancellation);

    public Task<JobPage?> JobAsync(Guid id, CancellationToken cancellation) =>
        database.ReadAsync(async (connection, token) =>
        {
            if (await DashboardQueries.JobAsync(connection, id, token) is not { } job) return null;
            var (yaml, modelJobs) = ("", (IReadOnlyList<(string, Guid)>)[]);
            if (await DashboardQueries.SpecAsync(connection, id, token) is { } spec)
            {
                yaml = JobMapping.Yaml(spec.Encoded);
                modelJobs = new[] { (Role: "model", Checkpoint: spec.ModelCheckpoint), (Role: "teacher", Checkpoint: spec.TeacherCheckpoint) }
                    .Select(m => (m.Role, Reference: ModelReference.Parse(m.Checkpoint)))
                    .Where(m => m.Reference.Kind == ModelReferenceKind.Job && Guid.TryParse(m.Reference.Value, out _))
                    .Select(m => (m.Role, Guid.Parse(m.Reference.Value))).ToList();
            }
            return new JobPage(job, yaml, modelJobs,
                await DashboardQueries.AttemptsAsync(connection, id, token),
                await DashboardQueries.CheckpointsAsync(connection, id, token),
                await DashboardQueries.CurvesAsync(connection, id, token),
                (await DashboardQueries.EvaluationsByJobAsync(connection, [id], token)).GetValueOrDefault(id),
                await DashboardQueries.FilesAsync(connection, id, token),
                await DashboardQueries.SweepOfJobAsync(connection, id, token));
        }, cancellation);

    /// <summary>What the job page re-reads while the job runs (<c>?handler=live</c>): the job's row and its curves, one read.</summary>
    public Task<(JobRow Job, List<MetricCurve> Curves)?> LiveJobAsync(Guid id, CancellationToken cancellation) =>
        database.ReadAsync(async (connection, token) => await DashboardQueries.JobAsync(connection, id, token) is { } job
            ? (job, await DashboardQueries.CurvesAsync(connection, id, token))
            : ((JobRow, List<MetricCurve>)?)null, cancellation);

    /// <summary>
    /// The newest <paramref name="candidates"/> jobs to pick from, and the picked runs that exist. An evaluate job is
    /// joined to the job whose model it evaluated (its dependency); a train or distill job to the newest evaluate job that depends on it.
    /// </summary>
    public Task<(List<JobRow> Choices, List<CompareRun> Runs)> CompareAsync(IReadOnlyList<Guid> picked, int candidates, CancellationToken cancellation) =>
        database.ReadAsync(async (connection, token) =>
        {
            var choices = await DashboardQueries.JobsAsync(connection, new JobFilter(), candidates, token);
            if (picked.Count == 0) return (choices, new List<CompareRun>());
            var relations = (await DashboardQueries.RelationsAsync(connection, picked, token)).ToDictionary(r => r.Id);
            var modelOf = relations.Values.ToDictionary(r => r.Id, r => r.DependsOn.Count > 0 ? r.DependsOn[0] : r.Id);
            var jobs = (await DashboardQueries.JobsByIdAsync(connection, [.. picked, .. modelOf.Values], token)).DistinctBy(j => j.Id).ToDictionary(j => j.Id);
            var evaluatorOf = picked.Where(jobs.ContainsKey).ToDictionary(id => id, id => jobs[id].Type == EvaluateType ? id : relations[id].Evaluator);
            var evaluations = await DashboardQueries.EvaluationsByJobAsync(connection, evaluatorOf.Values.OfType<Guid>().ToList(), token);
            var runs = new List<CompareRun>();
            foreach (var id in picked.Where(jobs.ContainsKey))
            {
                var job = jobs[id];
                var model = job.Type == EvaluateType && jobs.TryGetValue(modelOf[id], out var trained) ? trained : job;
                var curves = await DashboardQueries.CurvesAsync(connection, model.Id, token);
                runs.Add(new CompareRun(job, model, evaluatorOf[id] is { } evaluator ? evaluations.GetValueOrDefault(evaluator) : null, curves));
            }
            return (choices, runs);
        }, cancellation);

    public async Task<List<SweepRow>> SweepsAsync(int limit, CancellationToken cancellation) =>
        (await database.ReadAsync((connection, token) => SweepRepository.ListAsync(connection, limit, token), cancellation)).Select(Row).ToList();

    public async Task<SweepPage?> SweepAsync(Guid id, CancellationToken cancellation)
    {
        var (sweep, jobs) = await database.ReadAsync(async (connection, token) =>
        {
            var sweep = await SweepRepository.GetAsync(connection, id, token);
            var jobs = sweep is null ? [] : await DashboardQueries.JobsByIdAsync(connection, sweep.Jobs.Select(j => j.JobId).ToList(), token);
            return (sweep, jobs);
        }, cancellation);
        return sweep is null ? null : new SweepPage(Row(sweep), await reports.BuildAsync(id, compare: null, cancellation), jobs);
    }

    static SweepRow Row(SweepRecord sweep) =>
        new(sweep.Id, sweep.Spec.Name, JobStates.Name(sweep.State), sweep.Arms, sweep.Spec.Seeds.ToList(),
            sweep.Jobs.Count(j => j.State == JobState.Succeeded), sweep.Jobs.Count, sweep.CreatedAt, sweep.CancelledAt, sweep.CancelReason);
}
