using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>
/// A sweep's results, as plain types (the gRPC service maps them; a web page can show them as they are): per arm the
/// statistics over seeds, paired comparisons between arms, mean curves, and the gate evidence of wavelet-gated arms.
/// </summary>
public sealed record SweepReport(Guid SweepId, string Name, SweepState State, IReadOnlyList<ArmSummary> Arms,
    IReadOnlyList<PairedDifference> Comparisons, IReadOnlyList<ReportCurve> LossCurves, IReadOnlyList<ReportCurve> GateCurves);

/// <summary>One arm over its seeds: evaluation metrics and final losses, size, training time, and gate evidence (gated arms).</summary>
public sealed record ArmSummary(string Arm, int Jobs, int Succeeded, IReadOnlyList<MetricStatistics> Metrics, double? Params, double? Macs,
    MetricStatistics TrainingSeconds, IReadOnlyList<GateEvidence> Gates);

/// <summary>
/// How one band's mean gate behaves over the denoising steps, over seeds: at the noisiest and the last step, the range it
/// spans across steps, and its mean distance from the untrained model's gate on the same inputs.
/// </summary>
public sealed record GateEvidence(string Band, MetricStatistics FirstStep, MetricStatistics LastStep, MetricStatistics RangeAcrossSteps,
    MetricStatistics ShiftFromInit);

/// <summary>A curve averaged over an arm's seeds, at the x values every seed has.</summary>
public sealed record ReportCurve(string Arm, string Series, double[] X, double[] Y);

/// <summary>
/// What the report reads of one job of a sweep: the final value of each metric (evaluation metrics, final losses, size),
/// its training time, its loss curve and, for gated models, the mean gate per band at each denoising step (trained and at
/// initialisation).
/// </summary>
public sealed record SweepRun(string Arm, long Seed, JobState State, IReadOnlyDictionary<string, double> Metrics, double? TrainingSeconds,
    IReadOnlyList<(double Step, double Value)> Loss, IReadOnlyDictionary<string, GateCurve> Gates);

/// <summary>One band's mean gate by denoising step (0 = noisiest), trained and at initialisation (NaN where not recorded).</summary>
public sealed record GateCurve(double[] Trained, double[] Initial);
