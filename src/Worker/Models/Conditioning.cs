using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// What a denoiser is conditioned on besides (x_t, t): nothing, class labels (B) int64, or a caption embedding
/// context (B, L, D) from the user's own text encoder. One value for both paths, so the UNet, the samplers, classifier-free
/// guidance, the trainer and distillation pass it along without knowing which it is. The UNet turns class labels into
/// its cross-attention context (or timestep embedding); a text context reaches every cross-attention layer as it is.
/// </summary>
public sealed class Conditioning
{
    Conditioning(Tensor? classLabels, Tensor? context)
    {
        ClassLabels = classLabels;
        Context = context;
    }

    /// <summary>Unconditional models.</summary>
    public static Conditioning None { get; } = new(null, null);

    /// <summary>(B) int64 class labels.</summary>
    public Tensor? ClassLabels { get; }

    /// <summary>(B, L, D) caption embeddings.</summary>
    public Tensor? Context { get; }

    public bool IsNone => ClassLabels is null && Context is null;

    /// <summary>Class labels, (B) int64.</summary>
    public static Conditioning Classes(Tensor labels)
    {
        if (labels.dim() != 1 || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"class labels must be a 1-D int64 batch; got {labels.dtype} ({Shape(labels)})", "classLabels");
        return new Conditioning(labels, null);
    }

    /// <summary>A caption context (B, L, D) with L ≥ 1 rows.</summary>
    public static Conditioning Text(Tensor context)
    {
        if (context.dim() != 3)
            throw new ArgumentException($"context must be (B, L, D) caption embeddings; got ({Shape(context)})", "context");
        if (context.shape[1] == 0)
            throw new ArgumentException($"context has L = 0 rows ({Shape(context)}): a caption embedding needs at least one token", "context");
        if (!context.is_floating_point())
            throw new ArgumentException($"context must be floating point; got {context.dtype}", "context");
        return new Conditioning(null, context);
    }

    /// <summary>Rows in the batch; null for <see cref="None"/>.</summary>
    public long? BatchSize => ClassLabels?.shape[0] ?? Context?.shape[0];

    /// <summary>This batch followed by <paramref name="other"/>'s (one forward of 2B for guidance).</summary>
    public Conditioning Concat(Conditioning other)
    {
        RequireSameKind(other);
        if (IsNone) return None;
        return ClassLabels is not null
            ? new Conditioning(cat([ClassLabels, other.ClassLabels!]), null)
            : new Conditioning(null, cat([Context!, other.Context!.to(Context!.dtype)]));
    }

    /// <summary>Row i from <paramref name="replacement"/> where <paramref name="replace"/>[i] is true, from this batch otherwise
    /// (caption and class dropout). The replacement is broadcast over the batch when it has one row.</summary>
    public Conditioning Replace(Tensor replace, Conditioning replacement)
    {
        RequireSameKind(replacement);
        if (IsNone) return None;
        if (ClassLabels is not null)
            return new Conditioning(where(replace.to(ClassLabels.device), replacement.ClassLabels!.to(ClassLabels.device).expand_as(ClassLabels), ClassLabels), null);
        var mask = replace.to(Context!.device).reshape(-1, 1, 1);
        var rows = replacement.Context!.to(Context.dtype).to(Context.device);
        if (rows.shape[1] != Context.shape[1] || rows.shape[2] != Context.shape[2])
            throw new ArgumentException($"the null context is ({Shape(rows)}) but the batch's context is ({Shape(Context)}): L and D must agree", "null_context");
        return new Conditioning(null, where(mask, rows.expand_as(Context), Context));
    }

    /// <summary>Rows [start, start + length).</summary>
    public Conditioning Narrow(long start, long length) => IsNone ? None
        : ClassLabels is not null ? new Conditioning(ClassLabels.narrow(0, start, length), null)
        : new Conditioning(null, Context!.narrow(0, start, length));

    /// <summary>One row repeated <paramref name="batch"/> times (a single caption or the null context for a whole batch).</summary>
    public Conditioning Expand(long batch)
    {
        if (IsNone) return None;
        if (BatchSize != 1) throw new ArgumentException($"only a one-row conditioning can be expanded; this one has {BatchSize} rows");
        return ClassLabels is not null
            ? new Conditioning(ClassLabels.expand(batch).contiguous(), null)
            : new Conditioning(null, Context!.expand(batch, -1, -1));
    }

    public Conditioning To(Device device) => IsNone ? None
        : ClassLabels is not null ? new Conditioning(ClassLabels.to(device), null) : new Conditioning(null, Context!.to(device));

    /// <summary>Keeps the tensors alive past the caller's dispose scope.</summary>
    public Conditioning MoveToOuterDisposeScope()
    {
        ClassLabels?.MoveToOuterDisposeScope();
        Context?.MoveToOuterDisposeScope();
        return this;
    }

    public void DisposeTensors()
    {
        ClassLabels?.Dispose();
        Context?.Dispose();
    }

    void RequireSameKind(Conditioning other)
    {
        if ((ClassLabels is null) != (other.ClassLabels is null) || (Context is null) != (other.Context is null))
            throw new ArgumentException($"cannot combine {Kind} conditioning with {other.Kind} conditioning");
    }

    string Kind => ClassLabels is not null ? "class" : Context is not null ? "text" : "no";

    static string Shape(Tensor t) => string.Join(", ", t.shape);
}
