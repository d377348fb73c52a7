namespace SpectralDiffusion.Orchestrator.Retention;

/// <summary>One thing the retention policy drops: a checkpoint, an unfinished checkpoint's uploads, a final model, a job
/// file, or a stored file no row names. <see cref="Bytes"/> counts the stored content it alone frees.</summary>
public sealed record DroppedItem(Guid? JobId, string What, string Name, long Bytes);

/// <summary>What one retention pass removed, or with <see cref="DryRun"/> would remove.</summary>
public sealed record RetentionReport(IReadOnlyList<DroppedItem> Items, long BytesFreed, int FilesRemoved, bool DryRun);

/// <summary>The kinds of <see cref="DroppedItem.What"/>, one spelling for the CLI, the docs and the tests.</summary>
public static class GarbageKinds
{
    public const string Checkpoint = "checkpoint", CheckpointUpload = "checkpoint upload", Model = "model", File = "file", Orphan = "orphan file";
}
