using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// A spec's <c>conditioning</c> block turned into what the engine takes: the condition dropout probability, the supplied
/// null context, the conditions to sample with and classifier-free guidance. One place for their defaults and their errors.
/// </summary>
public static class ConditioningInputs
{
    /// <summary>Condition dropout when the spec leaves it unset and the model has a null condition, so that classifier-free
    /// guidance has an unconditional model to mix with. Ours: CompVis's released training code drops no labels or captions
    /// (docs/method.md, "Readings and departures"); set conditioning.dropout to 0 to train as it does.</summary>
    public const double DefaultDropout = 0.1;

    /// <summary>The caption width D of a text-conditional model; null for other models.</summary>
    public static int? TextContextDim(UNetConfig config) => config.IsTextConditional ? config.ContextDim : null;

    /// <summary>The empty-prompt embedding named by <c>conditioning.null_context</c>, as (1, L, D); null when none is named.</summary>
    public static Tensor? NullContext(JobSpec spec, UNetConfig config)
    {
        if (spec.Conditioning is not { NullContext.Length: > 0 } conditioning) return null;
        if (!config.IsTextConditional) throw new ArgumentException("conditioning.null_context: this model reads no captions");
        var context = ContextFile.Read(conditioning.NullContext, "conditioning.null_context", config.ContextDim!.Value, allowBatch: false);
        return context.unsqueeze(0);
    }

    /// <summary>The condition dropout probability: the spec's, else <see cref="DefaultDropout"/> where the model has a null condition, else 0.</summary>
    public static double Dropout(JobSpec spec, UNetConfig config)
    {
        var hasNull = config is { NumClasses: not null, NullClass: true } || config.LearnedNullContext || spec.Conditioning is { NullContext.Length: > 0 };
        if (spec.Conditioning is not { HasDropout: true } conditioning) return hasNull ? DefaultDropout : 0;
        if (conditioning.Dropout > 0 && !hasNull)
            throw new ArgumentException(config.IsTextConditional
                ? "conditioning.dropout: dropping captions needs a null context; set conditioning.null_context to the empty-prompt embedding of your text encoder, or set dropout to 0"
                : "conditioning.dropout: this model has no null condition (unconditional, or no null class); set dropout to 0");
        return conditioning.Dropout;
    }

    /// <summary>Classifier-free guidance at <paramref name="scale"/>: the null class, or the supplied (else learned) null context.</summary>
    /// <param name="field">the option or field that asked for guidance, for the error message.</param>
    public static ClassifierFreeGuidance Guidance(UNetModel model, double scale, Tensor? suppliedNullContext, string field, string nullContextField)
    {
        if (model.Config.IsTextConditional)
            return new ClassifierFreeGuidance(scale, model.Unconditional(1, suppliedNullContext)
                ?? throw new ArgumentException($"{field}: guidance needs a null context and this model has no learned one; " +
                                               $"give {nullContextField} (the empty-prompt embedding of your text encoder, (L, {model.Config.ContextDim}))"));
        return model.Config is { NumClasses: int classes, NullClass: true }
            ? ClassifierFreeGuidance.ForNullClass(scale, classes)
            : throw new ArgumentException($"{field}: guidance needs a conditional model with a null condition (a class-conditional or text preset)");
    }

    /// <summary>
    /// The conditions of samples [start, start + count): random classes, or captions cycled from <paramref name="captions"/>
    /// ((N, L, D): a context file, else the dataset's own embeddings).
    /// </summary>
    public static Conditioning ForSamples(UNetConfig config, int start, int count, Generator generator, Tensor? captions)
    {
        if (config.IsTextConditional)
        {
            if (captions is null) throw new ArgumentException("conditioning.context: a text model needs captions to sample with (a context file, or a dataset with caption_embeddings)");
            var rows = arange(start, start + count, ScalarType.Int64).remainder(captions.shape[0]);
            return Conditioning.Text(captions.index_select(0, rows));
        }
        return config.NumClasses is int classes
            ? Conditioning.Classes(randint(0, classes, new long[] { count }, dtype: ScalarType.Int64, generator: generator))
            : Conditioning.None;
    }

    /// <summary>The captions to sample a text model with: <c>conditioning.context</c> as (N, L, D), else the dataset's first
    /// <paramref name="limit"/> caption embeddings; null for other models.</summary>
    public static Tensor? SamplingCaptions(JobSpec spec, UNetConfig config, IImageDataset dataset, int limit)
    {
        if (!config.IsTextConditional) return null;
        if (spec.Conditioning is { Context.Length: > 0 } conditioning)
        {
            var context = ContextFile.Read(conditioning.Context, "conditioning.context", config.ContextDim!.Value);
            return context.dim() == 2 ? context.unsqueeze(0) : context;
        }
        if (dataset is not ICaptionedDataset captioned)
            throw new ArgumentException("conditioning.context: name a caption embedding file to sample with (the dataset has no caption embeddings)");
        var n = Math.Max(1, Math.Min(limit, captioned.Count));
        var values = new float[n * captioned.ContextTokens * captioned.ContextDim];
        var length = captioned.ContextTokens * captioned.ContextDim;
        for (var i = 0; i < n; i++) captioned.ReadContext(i, values.AsSpan(i * length, length));
        return tensor(values, [n, captioned.ContextTokens, captioned.ContextDim]);
    }
}
