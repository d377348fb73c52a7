namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// An evaluation a rank reported for its attempt: FID (null without Inception weights), the low/high frequency errors, any
/// further named numbers (<see cref="Extra"/>), and the artifact holding the samples. An empty preset means the job's own.
/// </summary>
public sealed record EvaluationResult(Guid WorkerId, Guid JobId, int Attempt, string Preset, int NumSamples, double? Fid,
    double LowFrequencyError, double HighFrequencyError, IReadOnlyDictionary<string, double> Extra, string SamplesArtifact);

/// <summary>A stored evaluation of a job's model.</summary>
public sealed record EvaluationRecord(Guid JobId, string Preset, int NumSamples, double? Fid, double LowFrequencyError,
    double HighFrequencyError, IReadOnlyDictionary<string, double> Extra, DateTime CreatedAt, string SamplesArtifact);
