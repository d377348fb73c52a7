using System.Diagnostics;
using Npgsql;
using Prometheus;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Monitoring;

/// <summary>
/// The gauges that PostgreSQL holds the truth of, read at each scrape with one statement (one round trip, one snapshot):
/// jobs by state, queue depth per device kind, workers by state and device, and for each running job its step, rate
/// and the newest value of every series its rank 0 reported (loss terms, lr, grad norm, all-reduce time), and the
/// figures of the newest evaluations. Nothing is cached, so a scrape never shows an older state than the database's;
/// concurrent scrapes take turns. Job series exist while the job runs and vanish when it ends, which keeps the number
/// of series bounded by the running jobs (plus <see cref="EvaluatedJobs"/>).
/// </summary>
public sealed class ClusterGauges
{
    /// <summary>How many of the most recently evaluated jobs export their evaluation figures.</summary>
    public const int EvaluatedJobs = 100;
    static readonly string[] WorkerStates = [WorkerRepository.Idle, WorkerRepository.Busy, WorkerRepository.Lost, WorkerRepository.Gone];
    static readonly string[] Devices = Enum.GetValues<DeviceKind>().Select(JobStates.Name).ToArray();

    readonly Database database;
    readonly SemaphoreSlim turn = new(1, 1);
    readonly Series jobs, queue, workers, step, totalSteps, stepsPerSecond, jobMetric, evaluation;
    readonly Gauge readSeconds;

    public ClusterGauges(Database database, OrchestratorMetrics metrics)
    {
        this.database = database;
        var factory = Metrics.WithCustomRegistry(metrics.Registry);
        jobs = new(factory.CreateGauge("sd_jobs", "Jobs in each state", ["state"]));
        queue = new(factory.CreateGauge("sd_queue_depth", "Queued jobs per device kind", ["device"]));
        workers = new(factory.CreateGauge("sd_workers", "Workers in each state, per device kind", ["state", "device"]));
        step = new(factory.CreateGauge("sd_job_step", "The step a running job last reported", ["job_id", "job_name"]));
        totalSteps = new(factory.CreateGauge("sd_job_total_steps", "The steps a running job's phase has in all", ["job_id", "job_name"]));
        stepsPerSecond = new(factory.CreateGauge("sd_job_steps_per_second", "The training rate a running job last reported", ["job_id", "job_name"]));
        jobMetric = new(factory.CreateGauge("sd_job_metric",
            "The newest value of each series a running job's rank 0 reported (loss, loss_*, lr, grad_norm, allreduce_seconds, it_per_s)",
            ["job_id", "job_name", "metric"]));
        evaluation = new(factory.CreateGauge("sd_evaluation",
            $"The figures of the newest evaluation of each of the {EvaluatedJobs} most recently evaluated jobs (fid, low/high_frequency_error and extras)",
            ["job_id", "job_name", "preset", "figure"]));
        readSeconds = factory.CreateGauge("sd_metrics_database_read_seconds", "How long this scrape's read of PostgreSQL took");
        metrics.Registry.AddBeforeCollectCallback(RefreshAsync);
    }

    /// <summary>Reads the database and replaces every gauge's series with what it holds now.</summary>
    public async Task RefreshAsync(CancellationToken cancellation)
    {
        await turn.WaitAsync(cancellation);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var rows = await database.ReadAsync((connection, token) => connection.QueryAsync(Snapshot,
                r => (Family: r.GetString(0), Labels: new[] { r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4) }, Value: r.GetDouble(5)),
                token, ("evaluated_jobs", EvaluatedJobs)), cancellation);
            readSeconds.Set(Stopwatch.GetElapsedTime(started).TotalSeconds);
            var families = rows.ToLookup(r => r.Family);
            jobs.Replace(Counts(JobStates.Names<JobState>().Select(s => new[] { s }), families["jobs"], 1));
            queue.Replace(Counts(Devices.Select(d => new[] { d }), families["queue"], 1));
            workers.Replace(Counts(WorkerStates.SelectMany(s => Devices.Select(d => new[] { s, d })), families["workers"], 2));
            step.Replace(Job(families["step"]));
            totalSteps.Replace(Job(families["total_steps"]));
            stepsPerSecond.Replace(Job(families["steps_per_second"]));
            jobMetric.Replace(Take(families["job_metric"], 3));
            evaluation.Replace(Take(families["evaluation"], 4));
        }
        finally { turn.Release(); }
    }

    /// <summary>Every known label set, zero where the database has no row, so a state that empties shows 0 rather than vanishing.</summary>
    static IEnumerable<(string[] Labels, double Value)> Counts(IEnumerable<string[]> known,
        IEnumerable<(string Family, string[] Labels, double Value)> rows, int width)
    {
        var found = Take(rows, width).ToDictionary(r => Series.Key(r.Labels), r => r.Value);
        var knownKeys = known.Select(Series.Key).ToHashSet();
        return knownKeys.Select(key => (Series.Labels(key), found.GetValueOrDefault(key)))
            .Concat(found.Where(f => !knownKeys.Contains(f.Key)).Select(f => (Series.Labels(f.Key), f.Value)));
    }

    static IEnumerable<(string[] Labels, double Value)> Job(IEnumerable<(string Family, string[] Labels, double Value)> rows) => Take(rows, 2);

    static IEnumerable<(string[] Labels, double Value)> Take(IEnumerable<(string Family, string[] Labels, double Value)> rows, int width) =>
        rows.Select(r => (r.Labels[..width], r.Value));

    /// <summary>
    /// One row per series: (family, up to four labels, value). The counts read the state indexes; the job series only
    /// running jobs; evaluations only the newest of each of the most recently evaluated jobs.
    /// </summary>
    const string Snapshot = """
        SELECT 'jobs', state, '', '', '', count(*)::float8 FROM jobs GROUP BY state
        UNION ALL
        SELECT 'queue', device, '', '', '', count(*)::float8 FROM jobs WHERE state = 'QUEUED' GROUP BY device
        UNION ALL
        SELECT 'workers', state, device, '', '', count(*)::float8 FROM workers GROUP BY state, device
        UNION ALL
        SELECT s.family, j.id::text, j.name, '', '', s.value FROM jobs j
            CROSS JOIN LATERAL (VALUES ('step', j.progress_step::float8), ('total_steps', j.progress_total::float8),
                                       ('steps_per_second', j.steps_per_second)) s (family, value)
            WHERE j.state = 'RUNNING'
        UNION ALL
        SELECT 'job_metric', j.id::text, j.name, m.key, '', m.value::float8 FROM jobs j CROSS JOIN LATERAL jsonb_each(j.progress_metrics) m
            WHERE j.state = 'RUNNING' AND jsonb_typeof(m.value) = 'number'
        UNION ALL
        SELECT 'evaluation', e.job_id::text, j.name, e.preset, f.key, f.value
            FROM (SELECT * FROM (SELECT DISTINCT ON (job_id) * FROM evaluations ORDER BY job_id, id DESC) newest
                  ORDER BY id DESC LIMIT @evaluated_jobs) e
            JOIN jobs j ON j.id = e.job_id
            CROSS JOIN LATERAL (
                SELECT 'fid' AS key, e.fid AS value WHERE e.fid IS NOT NULL
                UNION ALL SELECT 'low_frequency_error', e.low_frequency_error
                UNION ALL SELECT 'high_frequency_error', e.high_frequency_error
                UNION ALL SELECT x.key, x.value::float8 FROM jsonb_each(e.extra) x WHERE jsonb_typeof(x.value) = 'number') f
        """;

    /// <summary>One gauge whose series are replaced as a whole: label sets missing from the new read are removed.</summary>
    sealed class Series(Gauge gauge)
    {
        /// <summary>Label values joined by a character no label holds (job names and metric names are printable).</summary>
        const char Separator = '\u001f';
        HashSet<string> present = [];

        public static string Key(string[] labels) => string.Join(Separator, labels);
        public static string[] Labels(string key) => key.Split(Separator);

        public void Replace(IEnumerable<(string[] Labels, double Value)> values)
        {
            var now = new HashSet<string>();
            foreach (var (labels, value) in values)
            {
                gauge.WithLabels(labels).Set(value);
                now.Add(Key(labels));
            }
            foreach (var gone in present.Where(key => !now.Contains(key))) gauge.RemoveLabelled(Labels(gone));
            present = now;
        }
    }
}
