using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Submission;

/// <summary>What a submitted job spec may ask for: keys <c>Orchestrator:MaxWorldSize</c>, <c>Orchestrator:DataRoots</c>.</summary>
public sealed class SubmissionOptions
{
    public int MaxWorldSize { get; set; } = JobSpecValidator.DefaultMaxWorldSize;
    /// <summary>Absolute folders under which a job spec may name absolute paths (mounted alike on every worker); see <see cref="SpecPathRules"/>.</summary>
    public List<string> DataRoots { get; set; } = [];

    /// <summary>The validator every submission path uses (jobs and the jobs of a sweep alike).</summary>
    public JobSpecValidator CreateValidator() => new(MaxWorldSize, SpecPathRules.Server(DataRoots));

    public IEnumerable<string> Problems()
    {
        if (MaxWorldSize < 1) yield return $"Orchestrator:MaxWorldSize is {MaxWorldSize}; must be at least 1";
        foreach (var (root, index) in DataRoots.Select((r, i) => (r, i)))
            if (!Path.IsPathRooted(root) || root.Split('/').Contains(".."))
                yield return $"Orchestrator:DataRoots:{index} is '{root}'; must be an absolute folder without '..'";
    }
}
