namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// A job's spec as the orchestrator keeps it. The document stays opaque here: <see cref="Encoded"/> is the spec exactly as
/// accepted (the protobuf the gRPC services parsed; stored as is and sent to the workers as is) and <see cref="Json"/> the
/// same for SQL and Grafana. Beside it stand the fields the orchestrator acts on, read from the document once, where it
/// enters: what scheduling, restarts, references and listings need. The worker, not the orchestrator, interprets the rest.
/// </summary>
/// <param name="ModelCheckpoint">the model's weights to start from: <c>job:&lt;id&gt;</c>, <c>artifact:&lt;sha256&gt;</c>, a path, or "".</param>
/// <param name="TeacherPreset">"" for a job without a teacher, as is <paramref name="TeacherCheckpoint"/>.</param>
public sealed record JobSpecDocument(byte[] Encoded, string Json, string Name, JobType Type, DeviceKind Device, int WorldSize, int Priority,
    int MaxRestarts, string Preset, string ModelCheckpoint, string TeacherPreset, string TeacherCheckpoint, IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>The checkpoints the spec loads, with the field that names each (relative to the spec).</summary>
    public IEnumerable<(string Checkpoint, string Field)> Checkpoints =>
        [(ModelCheckpoint, "model.checkpoint"), (TeacherCheckpoint, "teacher.checkpoint")];
}
