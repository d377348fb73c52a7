using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>
/// Reads what a sweep's jobs recorded (final losses, their latest evaluation, loss series, gate series) and builds the
/// <see cref="SweepReport"/>. Training time is a job's wall time from its start to its end (its evaluation phase included).
/// </summary>
public sealed class SweepReports(Database database)
{
    public Task<SweepReport> BuildAsync(Guid id, IReadOnlyList<(string ArmA, string ArmB)>? compare, CancellationToken cancellation) =>
        database.ReadAsync(async (connection, token) =>
        {
            var sweep = await SweepRepository.GetAsync(connection, id, token) ?? throw OrchestratorException.NotFound($"sweep {id} does not exist");
            foreach (var (a, b) in compare ?? [])
                foreach (var (arm, field) in new[] { (a, "compare.arm_a"), (b, "compare.arm_b") })
                    if (!sweep.Arms.Contains(arm))
                        throw OrchestratorException.Invalid(field, $"'{Echo.Short(arm)}' is no arm of this sweep{Spelling.Hint(arm, sweep.Arms)}; arms: {string.Join(", ", sweep.Arms)}");
            var runs = await RunsAsync(connection, id, token);
            return SweepReportBuilder.Build(id, sweep.Spec.Name, sweep.State, sweep.Arms, runs, compare is { Count: > 0 } ? compare : null);
        }, cancellation);

    static async Task<List<SweepRun>> RunsAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation)
    {
        var rows = await connection.QueryAsync("""
            SELECT j.id, j.sweep_arm, j.sweep_seed, j.state, j.progress_metrics::text,
                   extract(epoch FROM j.finished_at - j.started_at)::double precision,
                   e.fid, e.low_frequency_error, e.high_frequency_error, coalesce(e.extra::text, '{}')
            FROM jobs j
            LEFT JOIN LATERAL (SELECT * FROM evaluations e WHERE e.job_id = j.id ORDER BY e.id DESC LIMIT 1) e ON true
            WHERE j.sweep_id = @id ORDER BY j.seq
            """, r =>
            {
                var metrics = r.JsonMap<double>(4).Where(m => m.Key.StartsWith("loss", StringComparison.Ordinal))
                    .ToDictionary(m => "final_" + m.Key, m => m.Value);
                if (!r.IsDBNull(6)) metrics["fid"] = r.GetDouble(6);
                if (!r.IsDBNull(7)) metrics["low_frequency_error"] = r.GetDouble(7);
                if (!r.IsDBNull(8)) metrics["high_frequency_error"] = r.GetDouble(8);
                var extra = r.JsonMap<double>(9);
                foreach (var name in new[] { EvaluationArtifacts.HighFrequencyPowerRatioMetric, SweepReportBuilder.ParamsMetric, SweepReportBuilder.MacsMetric })
                    if (extra.TryGetValue(name, out var value)) metrics[name] = value;
                return (Id: r.GetGuid(0), Arm: r.GetString(1), Seed: r.GetInt64(2), State: JobStates.Parse(r.GetString(3)), Metrics: metrics,
                    Seconds: r.IsDBNull(5) ? (double?)null : r.GetDouble(5), Gates: GateCurves(extra));
            }, cancellation, ("id", id));
        var losses = (await connection.QueryAsync("""
            SELECT DISTINCT ON (job_id, step) job_id, step, value FROM metrics
            WHERE job_id = ANY(@ids) AND name = 'loss' AND rank = 0 ORDER BY job_id, step, attempt DESC
            """, r => (Job: r.GetGuid(0), Step: (double)r.GetInt64(1), Value: r.GetDouble(2)), cancellation, ("ids", rows.Select(x => x.Id).ToArray())))
            .ToLookup(l => l.Job);
        return rows.Select(x => new SweepRun(x.Arm, x.Seed, x.State, x.Metrics, x.Seconds,
            losses[x.Id].Select(l => (l.Step, l.Value)).ToList(), x.Gates)).ToList();
    }

    /// <summary>The gate series an evaluation recorded in its extra numbers (<see cref="GateSeriesKeys"/>), by band.</summary>
    public static Dictionary<string, GateCurve> GateCurves(IReadOnlyDictionary<string, double> extra)
    {
        var points = extra.Select(kv => GateSeriesKeys.TryParse(kv.Key, out var band, out var step, out var initial) ? (band, step, initial, kv.Value) : default)
            .Where(p => p.band is { Length: > 0 }).ToList();
        var curves = new Dictionary<string, GateCurve>();
        foreach (var band in points.Select(p => p.band).Distinct())
        {
            var steps = points.Where(p => p.band == band && !p.initial).Max(p => (int?)p.step) + 1 ?? 0;
            if (steps == 0) continue;
            var trained = Enumerable.Repeat(double.NaN, steps).ToArray();
            var initial = Enumerable.Repeat(double.NaN, steps).ToArray();
            foreach (var p in points.Where(p => p.band == band && p.step < steps)) (p.initial ? initial : trained)[p.step] = p.Value;
            curves[band] = new GateCurve(trained, initial);
        }
        return curves;
    }
}
