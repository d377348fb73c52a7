using System.Text.RegularExpressions;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// Which files and folders a job spec may name (<c>model.checkpoint</c>, <c>teacher.checkpoint</c>, <c>first_stage.checkpoint</c>,
/// <c>dataset.image_folder.path</c> and <c>.caption_embeddings</c>, <c>evaluation.inception_weights</c>, <c>conditioning.null_context</c>
/// and <c>conditioning.context</c>) and where a worker finds them:
/// <list type="bullet">
/// <item><c>job:&lt;id&gt;</c> or <c>artifact:&lt;sha256&gt;</c> (checkpoints): stored by the orchestrator;</item>
/// <item>a relative path: resolved by each worker under its data root (<c>--data-root</c>), never climbing out of it;</item>
/// <item>an absolute path: only under one of the orchestrator's <c>Orchestrator:DataRoots</c> (mounted alike on every worker).</item>
/// </list>
/// No path may hold a <c>..</c> segment or start with <c>~</c>, and an unknown <c>scheme:</c> is refused. The checks
/// are lexical: a symbolic link inside a data root that points out of it is the operator's to avoid.
/// </summary>
public sealed partial class SpecPathRules
{
    public const int MaxPathLength = 4096;
    readonly IReadOnlyList<string>? dataRoots;
    readonly bool lexical;

    SpecPathRules(IReadOnlyList<string>? dataRoots, bool lexical) => (this.dataRoots, this.lexical) = (dataRoots, lexical);

    /// <summary>The standalone worker verbs: the user's own files on their own machine, any path.</summary>
    public static SpecPathRules Local { get; } = new(null, lexical: false);

    /// <summary>The ops CLI before submitting: the lexical rules; which absolute paths are allowed is the server's to say.</summary>
    public static SpecPathRules ClientSide { get; } = new(null, lexical: true);

    /// <summary>The orchestrator: the lexical rules, and absolute paths only under <paramref name="dataRoots"/> (absolute folders).</summary>
    public static SpecPathRules Server(IEnumerable<string> dataRoots) =>
        new(dataRoots.Select(root => Path.TrimEndingDirectorySeparator(Path.GetFullPath(root))).ToList(), lexical: true);

    /// <summary>Why <paramref name="path"/> may not be named, or null when it may.</summary>
    public string? Check(string path)
    {
        if (!lexical) return null;
        if (path.Length > MaxPathLength) return $"is {path.Length} characters; at most {MaxPathLength}";
        if (Scheme().IsMatch(path))
            return $"'{Echo.Short(path)}' is not a path: use job:<id>, artifact:<sha256>, a path relative to the workers' data root, " +
                   "or an absolute path under a data root";
        if (path.StartsWith('~')) return $"'{Echo.Short(path)}': '~' is not expanded; use a relative or an absolute path";
        if (path.Split('/').Contains("..")) return $"'{Echo.Short(path)}' climbs out with '..'; name the file inside a data root instead";
        if (!Path.IsPathRooted(path) || dataRoots is null) return null;
        if (dataRoots.Count == 0)
            return $"'{Echo.Short(path)}' is absolute; absolute paths are accepted only under Orchestrator:DataRoots and none is configured " +
                   "(use a path relative to the workers' data root, job:<id> or artifact:<sha256>)";
        var full = Path.GetFullPath(path);
        return dataRoots.Any(root => full == root || full.StartsWith(root + "/", StringComparison.Ordinal)) ? null
            : $"'{Echo.Short(path)}' is outside the data roots the workers may read (Orchestrator:DataRoots: {string.Join(", ", dataRoots)})";
    }

    /// <summary>Where a worker whose data root is <paramref name="dataRoot"/> reads <paramref name="path"/>: relative paths under it, absolute ones as they are.</summary>
    public static string Resolve(string path, string dataRoot)
    {
        if (Path.IsPathRooted(path)) return Path.GetFullPath(path);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataRoot));
        var full = Path.GetFullPath(Path.Combine(root, path));
        return full == root || full.StartsWith(root + "/", StringComparison.Ordinal) ? full
            : throw new ArgumentException($"'{Echo.Short(path)}' lies outside this worker's data root {root}");
    }

    /// <summary>The path fields of a spec that name files (checkpoint references other than paths are left out), with their field paths.</summary>
    public static IEnumerable<(string Field, string Path, Action<string> Set)> PathFields(JobSpec spec)
    {
        foreach (var (model, field) in new[] { (spec.Model, "model.checkpoint"), (spec.Teacher, "teacher.checkpoint") })
            if (model is not null && ModelReference.Parse(model.Checkpoint).Kind == ModelReferenceKind.Path)
                yield return (field, model.Checkpoint, value => model.Checkpoint = value);
        foreach (var (model, field) in new[] { (spec.Model, "model.config"), (spec.Teacher, "teacher.config") })
            if (model is { Config.Length: > 0 })
                yield return (field, model.Config, value => model.Config = value);
        if (spec.FirstStage is { Checkpoint.Length: > 0 } firstStage && ModelReference.Parse(firstStage.Checkpoint).Kind == ModelReferenceKind.Path)
            yield return ("first_stage.checkpoint", firstStage.Checkpoint, value => firstStage.Checkpoint = value);
        if (spec.Dataset?.ImageFolder is { Path.Length: > 0 } folder)
            yield return ("dataset.image_folder.path", folder.Path, value => folder.Path = value);
        if (spec.Dataset?.ImageFolder is { CaptionEmbeddings.Length: > 0 } captioned)
            yield return ("dataset.image_folder.caption_embeddings", captioned.CaptionEmbeddings, value => captioned.CaptionEmbeddings = value);
        if (spec.Evaluation is { InceptionWeights.Length: > 0 } evaluation)
            yield return ("evaluation.inception_weights", evaluation.InceptionWeights, value => evaluation.InceptionWeights = value);
        if (spec.Conditioning is { NullContext.Length: > 0 } nullContext)
            yield return ("conditioning.null_context", nullContext.NullContext, value => nullContext.NullContext = value);
        if (spec.Conditioning is { Context.Length: > 0 } context)
            yield return ("conditioning.context", context.Context, value => context.Context = value);
    }

    /// <summary>"s3:", "http:", "jobs:" …: something that looks like a reference scheme (job: and artifact: are parsed before paths).</summary>
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex Scheme();
}
