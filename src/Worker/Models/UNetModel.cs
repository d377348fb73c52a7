using SpectralDiffusion.Worker.Spectral;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// The CompVis latent-diffusion <c>openaimodel.UNetModel</c> with the same module and parameter names and shapes
/// (time_embed, label_emb, input_blocks, middle_block, output_blocks, out), so an official
/// <c>model.diffusion_model.*</c> state dict loads strictly. With <see cref="UNetConfig.WaveletGating"/> every
/// Downsample/Upsample is a WG-Down/WG-Up (paper §5.1). Predicts ε from (x_t, t, c), c a <see cref="Conditioning"/>:
/// class labels (to the class embedding) or a caption context (B, L, D) that reaches every cross-attention layer.
/// </summary>
public sealed class UNetModel : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Sequential time_embed;
    readonly Embedding? label_emb;
    readonly Embedding? context_emb;
    readonly Parameter? null_context;
    readonly ModuleList<TimestepEmbedSequential> input_blocks;
    readonly TimestepEmbedSequential middle_block;
    readonly ModuleList<TimestepEmbedSequential> output_blocks;
    readonly Sequential @out;
    readonly Dictionary<string, (long Channels, int Downsample)> blockOutputs = new();
    readonly List<string> defaultTaps;

    public UNetModel(UNetConfig config) : base(nameof(UNetModel))
    {
        config.Validate();
        Config = config;
        var embedDim = config.ModelChannels * 4;
        time_embed = nn.Sequential(nn.Linear(config.ModelChannels, embedDim), nn.SiLU(), nn.Linear(embedDim, embedDim));
        if (config.NumClasses is not null)
        {
            if (config.ContextDim is int contextDim) context_emb = nn.Embedding(config.ClassEmbeddingRows, contextDim);
            else label_emb = nn.Embedding(config.ClassEmbeddingRows, embedDim);
        }

        if (config.LearnedNullContext)
            null_context = nn.Parameter(zeros(config.ContextTokens!.Value, config.ContextDim!.Value));   // "no caption": learned from caption dropout

        var builder = new BlockBuilder(config, embedDim);
        input_blocks = nn.ModuleList<TimestepEmbedSequential>();
        output_blocks = nn.ModuleList<TimestepEmbedSequential>();
        var skipChannels = new Stack<long>();
        long channels = config.ModelChannels;
        var ds = 1;
        AddInput(new TimestepEmbedSequential(nn.Conv2d(config.InChannels, channels, 3, padding: 1)), channels, ds, skipChannels);
        for (var level = 0; level < config.ChannelMult.Length; level++)
        {
            for (var block = 0; block < config.NumResBlocks; block++)
            {
                var layers = new List<nn.Module> { builder.Res(channels, (long)config.ChannelMult[level] * config.ModelChannels) };
                channels = (long)config.ChannelMult[level] * config.ModelChannels;
                if (config.AttentionResolutions.Contains(ds)) layers.Add(builder.Attention(channels, upsampling: false));
                AddInput(new TimestepEmbedSequential(layers.ToArray()), channels, ds, skipChannels);
            }
            if (level != config.ChannelMult.Length - 1)
            {
                ds *= 2;
                AddInput(new TimestepEmbedSequential(builder.Down(channels)), channels, ds, skipChannels);
            }
        }

        middle_block = new TimestepEmbedSequential(builder.Res(channels, channels), builder.Attention(channels, upsampling: false), builder.Res(channels, channels));
        blockOutputs["middle_block"] = (channels, ds);

        defaultTaps = [];
        for (var level = config.ChannelMult.Length - 1; level >= 0; level--)
        {
            for (var block = 0; block <= config.NumResBlocks; block++)
            {
                var outChannels = (long)config.ChannelMult[level] * config.ModelChannels;
                var layers = new List<nn.Module> { builder.Res(channels + skipChannels.Pop(), outChannels) };
                channels = outChannels;
                if (config.AttentionResolutions.Contains(ds)) layers.Add(builder.Attention(channels, upsampling: true));
                if (level > 0 && block == config.NumResBlocks)
                {
                    layers.Add(builder.Up(channels));
                    ds /= 2;
                }
                var name = $"output_blocks.{output_blocks.Count}";
                output_blocks.Add(new TimestepEmbedSequential(layers.ToArray()));
                blockOutputs[name] = (channels, ds);
            }
        }
        // Default distillation taps: the last decoder block whose output is at each resolution (docs/method.md).
        defaultTaps = blockOutputs.Where(o => o.Key.StartsWith("output_blocks.", StringComparison.Ordinal))
            .GroupBy(o => o.Value.Downsample).Select(g => g.Last().Key).ToList();

        @out = nn.Sequential(Normalization.GroupNorm(channels, config.NormGroups), nn.SiLU(),
                             TimestepEmbedding.ZeroModule(nn.Conv2d(config.ModelChannels, config.OutChannels, 3, padding: 1)));
        RegisterComponents();
    }

    void AddInput(TimestepEmbedSequential block, long channels, int ds, Stack<long> skipChannels)
    {
        blockOutputs[$"input_blocks.{input_blocks.Count}"] = (channels, ds);
        input_blocks.Add(block);
        skipChannels.Push(channels);
    }

    public UNetConfig Config { get; }

    /// <summary>The output of the last decoder block at each resolution, coarsest first (e.g. output_blocks.2, .5, .8, .11 style names).</summary>
    public IReadOnlyList<string> DefaultFeatureTaps => defaultTaps;

    /// <summary>Every block name a feature can be tapped at.</summary>
    public IReadOnlyCollection<string> FeatureTapNames => blockOutputs.Keys;

    public long FeatureChannels(string tap) => Lookup(tap).Channels;

    public int FeatureDownsampleFactor(string tap) => Lookup(tap).Downsample;

    (long Channels, int Downsample) Lookup(string tap) => blockOutputs.TryGetValue(tap, out var output)
        ? output
        : throw new ArgumentException($"unknown feature tap '{tap}'; valid taps: {string.Join(", ", blockOutputs.Keys)}", nameof(tap));

    public override Tensor forward(Tensor x, Tensor timesteps) => forward(x, timesteps, Conditioning.None);

    /// <summary>ε-prediction under <paramref name="conditioning"/> (class label NumClasses is the null class of classifier-free guidance).</summary>
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning conditioning) => Run(x, timesteps, conditioning, null, null);

    /// <summary>ε-prediction plus the outputs of the named blocks (e.g. "output_blocks.5") for distillation.</summary>
    public (Tensor Output, IReadOnlyDictionary<string, Tensor> Features) ForwardWithFeatures(Tensor x, Tensor timesteps, Conditioning conditioning, IReadOnlyCollection<string> taps)
    {
        foreach (var tap in taps) Lookup(tap);
        var features = new Dictionary<string, Tensor>();
        var output = Run(x, timesteps, conditioning, taps, features);
        return (output, features);
    }

    /// <summary>The learned empty-prompt context (L, D) of a text model trained with caption dropout; null otherwise.</summary>
    public Parameter? NullContext => null_context;

    /// <summary>
    /// The "no condition" input for <paramref name="batch"/> rows, for classifier-free guidance and condition dropout:
    /// the null class of a class-conditional model, or the empty-prompt context of a text model (the supplied one, else
    /// the learned one). Null for an unconditional model or a text model with neither.
    /// </summary>
    public Conditioning? Unconditional(long batch, Tensor? suppliedNullContext = null)
    {
        if (Config is { NumClasses: int classes, NullClass: true }) return Conditioning.Classes(full(batch, classes, ScalarType.Int64));
        if (!Config.IsTextConditional) return null;
        var nullContext = suppliedNullContext ?? null_context;
        if (nullContext is null) return null;
        if (nullContext.dim() == 2) nullContext = nullContext.unsqueeze(0);
        CheckContextWidth(nullContext, "null_context");
        return Conditioning.Text(nullContext.narrow(0, 0, 1)).Expand(batch);
    }

    Tensor Run(Tensor x, Tensor timesteps, Conditioning conditioning, IReadOnlyCollection<string>? taps, Dictionary<string, Tensor>? features)
    {
        CheckInputs(x, ref timesteps, conditioning);
        var emb = time_embed.forward(TimestepEmbedding.Sinusoidal(timesteps, Config.ModelChannels).to(x.dtype));
        var context = conditioning.Context?.to(x.dtype);
        if (label_emb is not null) emb = emb + label_emb.forward(conditioning.ClassLabels!);
        if (context_emb is not null) context = context_emb.forward(conditioning.ClassLabels!).unsqueeze(1);

        var skips = new Stack<Tensor>();
        var h = x;
        for (var i = 0; i < input_blocks.Count; i++)
        {
            h = input_blocks[i].forward(h, emb, context);
            Keep($"input_blocks.{i}", h);
            skips.Push(h);
        }
        h = middle_block.forward(h, emb, context);
        Keep("middle_block", h);
        for (var i = 0; i < output_blocks.Count; i++)
        {
            h = output_blocks[i].forward(cat(new[] { h, skips.Pop() }, dim: 1), emb, context);
            Keep($"output_blocks.{i}", h);
        }
        var outLayers = @out.children().ToArray();                        // GroupNorm, SiLU, conv (CompVis names out.0, out.2)
        h = ((nn.Module<Tensor, Tensor>)outLayers[1]).forward(((nn.Module<Tensor, Tensor>)outLayers[0]).forward(h));
        return ChannelAlignedConvolution.Forward((Conv2d)outLayers[2], h);

        void Keep(string name, Tensor value)
        {
            if (taps is not null && taps.Contains(name)) features![name] = value;
        }
    }

    void CheckInputs(Tensor x, ref Tensor timesteps, Conditioning conditioning)
    {
        var divisor = 1 << (Config.ChannelMult.Length - 1);
        if (x.dim() != 4 || x.shape[1] != Config.InChannels || x.shape[2] % divisor != 0 || x.shape[3] % divisor != 0)
            throw new ArgumentException($"x must be (B, {Config.InChannels}, H, W) with H and W divisible by {divisor}; got ({string.Join(", ", x.shape)})", nameof(x));
        if (timesteps.dim() == 0) timesteps = timesteps.expand(x.shape[0]);
        if (timesteps.dim() != 1 || timesteps.shape[0] != x.shape[0])
            throw new ArgumentException($"timesteps must be a 1-D batch of {x.shape[0]}; got ({string.Join(", ", timesteps.shape)})", nameof(timesteps));
        if (Config.IsTextConditional)
        {
            if (conditioning.Context is null)
                throw new ArgumentException($"this UNet is text-conditional (context_dim {Config.ContextDim}): pass a caption context (B, L, {Config.ContextDim})", "context");
            CheckContextWidth(conditioning.Context, "context");
            if (conditioning.Context.shape[0] != x.shape[0])
                throw new ArgumentException($"context holds {conditioning.Context.shape[0]} rows for a batch of {x.shape[0]}", "context");
            return;
        }
        if (conditioning.Context is not null)
            throw new ArgumentException($"this UNet takes no caption context ({(Config.NumClasses is null ? "it is unconditional" : "it is class-conditional")}) but one was given", "context");
        if (Config.NumClasses is null)
        {
            if (conditioning.ClassLabels is not null) throw new ArgumentException("this UNet is unconditional (NumClasses is null) but class labels were given", "classLabels");
            return;
        }
        var classLabels = conditioning.ClassLabels
            ?? throw new ArgumentException($"this UNet is class-conditional ({Config.NumClasses} classes): pass class labels{(Config.NullClass ? $" (label {Config.NumClasses} is the null class)" : "")}", "classLabels");
        if (classLabels.shape[0] != x.shape[0])
            throw new ArgumentException($"class labels must be a 1-D int64 batch of {x.shape[0]}; got {classLabels.dtype} ({string.Join(", ", classLabels.shape)})", "classLabels");
        var (min, max) = (classLabels.min().item<long>(), classLabels.max().item<long>());
        if (min < 0 || max >= Config.ClassEmbeddingRows)
            throw new ArgumentException($"class labels must lie in [0, {Config.ClassEmbeddingRows - 1}] (the class embedder's {Config.ClassEmbeddingRows} rows); got [{min}, {max}]", "classLabels");
    }

    void CheckContextWidth(Tensor context, string field)
    {
        if (context.dim() != 3 || context.shape[2] != Config.ContextDim)
            throw new ArgumentException($"{field} is ({string.Join(", ", context.shape)}) but this preset's context_dim is {Config.ContextDim}: D must be {Config.ContextDim}", field);
        if (context.shape[1] == 0)
            throw new ArgumentException($"{field} has L = 0 rows: a caption embedding needs at least one token", field);
    }

    /// <summary>Mean gate per band (LL, LH, HL, HH) of every wavelet-gated layer from the last forward pass (paper Figure 9).</summary>
    public IReadOnlyList<(string Layer, float[] MeanGatePerBand)> GateSnapshot() =>
        named_modules().Select(m => (m.name, Gate: m.module switch
            {
                WaveletGatedDownsample down => down.Gate,
                WaveletGatedUpsample up => up.Gate,
                _ => null,
            }))
            .Where(m => m.Gate?.MeanGatePerBand is not null)
            .Select(m => (m.name, m.Gate!.MeanGatePerBand!))
            .ToList();

    /// <summary>Conv and linear multiply-adds of one sample at height×width (ptflops convention), by a shape walk.</summary>
    internal long CountMacs(int height, int width)
    {
        long macs = MacRules.Linear((Linear)time_embed.children().First()) + MacRules.Linear((Linear)time_embed.children().Last());
        var shape = new FeatureShape(Config.InChannels, height, width);
        var skips = new Stack<FeatureShape>();
        foreach (var block in input_blocks)
        {
            (var blockMacs, shape) = block.CountMacs(shape);
            macs += blockMacs;
            skips.Push(shape);
        }
        (var middleMacs, shape) = middle_block.CountMacs(shape);
        macs += middleMacs;
        foreach (var block in output_blocks)
        {
            (var blockMacs, shape) = block.CountMacs(shape with { Channels = shape.Channels + skips.Pop().Channels });
            macs += blockMacs;
        }
        var outConv = (Conv2d)@out.children().Last();
        return macs + MacRules.Conv2d(outConv, shape, padding: 1).Macs;
    }

    /// <summary>Creates the blocks of one config (CompVis constructor arguments in one place).</summary>
    sealed class BlockBuilder(UNetConfig config, long embedDim)
    {
        public nn.Module Res(long inChannels, long outChannels, ResBlock.Resample resample = ResBlock.Resample.None) =>
            new ResBlock(inChannels, embedDim, config.Dropout, outChannels, config.UseScaleShiftNorm, resample, config.NormGroups);

        public nn.Module Attention(long channels, bool upsampling)
        {
            int heads, headChannels;
            if (config.NumHeadChannels == -1) (heads, headChannels) = (config.NumHeads, (int)channels / config.NumHeads);
            else (heads, headChannels) = ((int)channels / config.NumHeadChannels, config.NumHeadChannels);
            if (config.UseSpatialTransformer)
                return new SpatialTransformer(channels, heads, channels / heads, config.TransformerDepth, config.ContextDim, config.NormGroups, config.ContextTokens ?? 1);
            // CompVis "legacy": the AttentionBlock receives num_head_channels as given and the (upsampling) head count.
            var headCount = upsampling && config.NumHeadsUpsample != -1 ? config.NumHeadsUpsample : config.NumHeads;
            return new AttentionBlock(channels, headCount, config.NumHeadChannels, config.NormGroups);
        }

        public nn.Module Down(long channels) => config.WaveletGating ? new WaveletGatedDownsample(channels, config.GateInit)
            : config.ResblockUpdown ? Res(channels, channels, ResBlock.Resample.Down)
            : new Downsample(channels, config.ConvResample);

        public nn.Module Up(long channels) => config.WaveletGating ? new WaveletGatedUpsample(channels, config.GateInit)
            : config.ResblockUpdown ? Res(channels, channels, ResBlock.Resample.Up)
            : new Upsample(channels, config.ConvResample);
    }
}
