namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>One value of a named metric (<c>loss</c>, <c>lr</c>, …) at a training step.</summary>
public sealed record MetricValue(string Name, long Step, double Value);

/// <summary>A rank's progress report: where its attempt stands and the metric values logged since the last one.</summary>
public sealed record ProgressUpdate(Guid WorkerId, Guid JobId, int Attempt, int Rank, long Step, long TotalSteps, string Phase,
    double StepsPerSecond, IReadOnlyList<MetricValue> Metrics);

/// <summary>One stored point of rank 0's series of a metric, with the attempt that logged it.</summary>
public sealed record SeriesSample(long Step, double Value, int Attempt);
