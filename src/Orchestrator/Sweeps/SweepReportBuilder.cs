using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>Builds a <see cref="SweepReport"/> from the runs of a sweep: only succeeded jobs count in the statistics.</summary>
public static class SweepReportBuilder
{
    public const string ParamsMetric = EvaluationArtifacts.ParamsMetric, MacsMetric = EvaluationArtifacts.MacsMetric;
    public static readonly string[] Bands = GateSeriesKeys.Bands;

    public static SweepReport Build(Guid sweepId, string name, SweepState state, IReadOnlyList<string> arms, IReadOnlyList<SweepRun> runs,
        IReadOnlyList<(string ArmA, string ArmB)>? compare = null)
    {
        var byArm = arms.ToDictionary(a => a, a => runs.Where(r => r.Arm == a).ToList());
        var done = arms.ToDictionary(a => a, a => byArm[a].Where(r => r.State == JobState.Succeeded).ToList());
        var metricNames = done.Values.SelectMany(r => r).SelectMany(r => r.Metrics.Keys)
            .Where(m => m is not (ParamsMetric or MacsMetric)).Distinct().Order(StringComparer.Ordinal).ToList();

        var summaries = arms.Select(arm => new ArmSummary(arm, byArm[arm].Count, done[arm].Count,
            metricNames.Select(m => SweepStatistics.Summarize(m, Values(done[arm], m).Values.ToList())).Where(s => s.N > 0).ToList(),
            Values(done[arm], ParamsMetric).Values.Cast<double?>().FirstOrDefault(),
            Values(done[arm], MacsMetric).Values.Cast<double?>().FirstOrDefault(),
            SweepStatistics.Summarize("training_seconds", done[arm].Where(r => r.TrainingSeconds is not null).Select(r => r.TrainingSeconds!.Value).ToList()),
            GateEvidenceOf(done[arm]))).ToList();

        var pairs = compare ?? arms.SelectMany((a, i) => arms.Skip(i + 1).Select(b => (a, b))).ToList();
        var comparisons = pairs.SelectMany(pair => metricNames
                .Select(m => SweepStatistics.Paired(pair.ArmA, pair.ArmB, m, Values(done[pair.ArmA], m), Values(done[pair.ArmB], m)))
                .Where(p => p.Pairs > 0))
            .ToList();

        var lossCurves = arms.Select(arm => MeanCurve(arm, "loss", done[arm].Select(r => r.Loss).Where(l => l.Count > 0).ToList()))
            .OfType<ReportCurve>().ToList();
        var gateCurves = arms.SelectMany(arm => Bands.Select(band => MeanCurve(arm, band,
                done[arm].Where(r => r.Gates.ContainsKey(band)).Select(r => (IReadOnlyList<(double, double)>)r.Gates[band].Trained.Select((g, k) => ((double)k, g)).ToList()).ToList())))
            .OfType<ReportCurve>().ToList();
        return new SweepReport(sweepId, name, state, summaries, comparisons, lossCurves, gateCurves);
    }

    static Dictionary<long, double> Values(IEnumerable<SweepRun> runs, string metric) =>
        runs.Where(r => r.Metrics.TryGetValue(metric, out var v) && double.IsFinite(v)).ToDictionary(r => r.Seed, r => r.Metrics[metric]);

    static List<GateEvidence> GateEvidenceOf(IReadOnlyList<SweepRun> runs)
    {
        var evidence = new List<GateEvidence>();
        foreach (var band in Bands)
        {
            var curves = runs.Where(r => r.Gates.TryGetValue(band, out var c) && c.Trained.Length > 0).Select(r => r.Gates[band]).ToList();
            if (curves.Count == 0) continue;
            evidence.Add(new GateEvidence(band,
                SweepStatistics.Summarize("first_step", curves.Select(c => c.Trained[0]).ToList()),
                SweepStatistics.Summarize("last_step", curves.Select(c => c.Trained[^1]).ToList()),
                SweepStatistics.Summarize("range_across_steps", curves.Select(c => c.Trained.Max() - c.Trained.Min()).ToList()),
                SweepStatistics.Summarize("shift_from_init", curves.Where(c => c.Initial.Length == c.Trained.Length && c.Initial.All(double.IsFinite))
                    .Select(c => c.Trained.Zip(c.Initial, (g, g0) => Math.Abs(g - g0)).Average()).ToList())));
        }
        return evidence;
    }

    /// <summary>The mean over seeds at the x values every seed has (the last value where a seed has an x twice), or null without seeds.</summary>
    static ReportCurve? MeanCurve(string arm, string series, IReadOnlyList<IReadOnlyList<(double X, double Y)>> seeds)
    {
        if (seeds.Count == 0) return null;
        var maps = seeds.Select(s => s.GroupBy(p => p.X).ToDictionary(g => g.Key, g => g.Last().Y)).ToList();
        var xs = maps.Skip(1).Aggregate((IEnumerable<double>)maps[0].Keys, (common, m) => common.Where(m.ContainsKey)).Order().ToArray();
        return new ReportCurve(arm, series, xs, xs.Select(x => maps.Average(m => m[x])).ToArray());
    }
}
