using System.Globalization;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SpectralDiffusion.Worker.Recipes;

/// <summary>
/// Reads a CompVis latent-diffusion or Stable Diffusion config YAML (<c>configs/latent-diffusion/*.yaml</c>,
/// <c>configs/stable-diffusion/v1-inference.yaml</c>) into a <see cref="ModelRecipe"/>: <c>linear_start</c>,
/// <c>linear_end</c>, <c>timesteps</c>, <c>parameterization</c>, <c>scale_factor</c>, <c>conditioning_key</c>,
/// <c>cond_stage_key</c>, <c>unet_config</c>, <c>first_stage_config</c> and <c>cond_stage_config</c> decide the model,
/// the schedule and the first stage. Keys that only steer CompVis's training loop or logging are read past; any other
/// key, and any value this project cannot reproduce (a <c>v</c> parameterisation, an unknown <c>target</c>), is a
/// <see cref="CompVisConfigException"/> naming the key.
/// </summary>
public static class CompVisConfig
{
    const string LatentDiffusionTarget = "ldm.models.diffusion.ddpm.LatentDiffusion";
    const string UNetTarget = "ldm.modules.diffusionmodules.openaimodel.UNetModel";
    const string ClassEmbedderTarget = "ldm.modules.encoders.modules.ClassEmbedder";
    const string Unconditional = "__is_unconditional__";
    /// <summary>Caption encoders whose output a user supplies as (L, D) embeddings; the context width is the UNet's context_dim.</summary>
    static readonly Dictionary<string, string> TextEncoders = new()
    {
        ["ldm.modules.encoders.modules.BERTEmbedder"] = "BERTEmbedder",
        ["ldm.modules.encoders.modules.FrozenCLIPEmbedder"] = "FrozenCLIPEmbedder",
    };
    static readonly Dictionary<string, AutoencoderKind> FirstStageTargets = new()
    {
        ["ldm.models.autoencoder.AutoencoderKL"] = AutoencoderKind.Kl,
        ["ldm.models.autoencoder.VQModelInterface"] = AutoencoderKind.Vq,
        ["ldm.models.autoencoder.VQModel"] = AutoencoderKind.Vq,
    };

    // model.params keys that steer only CompVis's training loop, EMA, logging or data loading.
    static readonly string[] TrainingOnlyModelKeys =
    [
        "num_timesteps_cond", "log_every_t", "first_stage_key", "monitor", "use_ema", "scheduler_config", "cond_stage_trainable",
        "ckpt_path", "ignore_keys", "load_only_unet", "original_elbo_weight", "l_simple_weight", "learn_logvar", "logvar_init",
        "clip_denoised", "use_positional_encodings", "cond_stage_forward",
    ];
    // unet_config.params keys that change memory use or precision, not the function.
    static readonly string[] RuntimeOnlyUNetKeys = ["use_checkpoint", "use_fp16", "legacy"];

    /// <summary>Reads and resolves the config file at <paramref name="path"/>.</summary>
    public static ModelRecipe Load(string path)
    {
        if (!File.Exists(path)) throw new CompVisConfigException(path, "", "no such file");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Resolves a config's text; <paramref name="source"/> names it in errors.</summary>
    public static ModelRecipe Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlException e) { throw new CompVisConfigException(source, "", $"not valid YAML: {e.Message}"); }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new CompVisConfigException(source, "", "must be one YAML mapping with a 'model' key");
        var top = new Node(source, "", root);
        top.Only(["model", "data", "lightning"]);   // data and lightning: CompVis's data loaders and trainer
        var model = top.Mapping("model");
        model.Only(["base_learning_rate", "target", "params"]);
        model.RequireTarget(LatentDiffusionTarget);
        return Resolve(model.Mapping("params"), source);
    }

    static ModelRecipe Resolve(Node p, string source)
    {
        p.Only([.. TrainingOnlyModelKeys, "linear_start", "linear_end", "timesteps", "beta_schedule", "parameterization", "scale_factor",
                "scale_by_std", "conditioning_key", "cond_stage_key", "concat_mode", "loss_type", "unet_config", "first_stage_config",
                "cond_stage_config", "given_betas", "cosine_s", "v_posterior", "image_size", "channels"]);
        p.Require(p.String("beta_schedule") is null or "linear", "beta_schedule", "only the 'linear' schedule is supported");
        p.Require(p.String("parameterization") is null or "eps", "parameterization", "only 'eps' (noise prediction) is supported; this project neither trains nor samples x0- or v-prediction models");
        p.Require(!p.Has("given_betas") || p.IsNull("given_betas"), "given_betas", "explicit betas are not supported; give linear_start and linear_end");
        p.Require(p.Double("v_posterior") is null or 0.0, "v_posterior", "only 0 (the fixed-small posterior variance) is supported");
        var defaults = DiffusionScheduleSettings.CompVisDefault;
        var schedule = new DiffusionScheduleSettings(p.Double("linear_start") ?? defaults.LinearStart, p.Double("linear_end") ?? defaults.LinearEnd,
            p.Int("timesteps") ?? defaults.Timesteps);
        p.Require(schedule.LinearStart > 0 && schedule.LinearEnd > schedule.LinearStart && schedule.LinearEnd < 1, "linear_end",
            $"need 0 < linear_start ({schedule.LinearStart}) < linear_end ({schedule.LinearEnd}) < 1");
        p.Require(schedule.Timesteps >= 2, "timesteps", $"needs at least 2 steps, got {schedule.Timesteps}");
        var lossType = p.String("loss_type") ?? "l2";
        p.Require(lossType is "l2" or "l1", "loss_type", $"'{lossType}' is not supported (l2, l1)");

        var conditioning = Conditioning(p);
        // LatentDiffusion: without a conditioning_key, concat_mode (default True) picks concat, else crossattn.
        var conditioningKey = p.String("conditioning_key") ?? (p.Bool("concat_mode") ?? true ? "concat" : "crossattn");
        if (conditioning.Kind != ConditioningKind.None)
            p.Require(conditioningKey == "crossattn", p.Has("conditioning_key") ? "conditioning_key" : "concat_mode",
                $"'{conditioningKey}' conditioning is not supported; only 'crossattn' (the context reaches every cross-attention layer)");
        var scaleByStd = p.Bool("scale_by_std") ?? false;
        var unet = UNet(p.Mapping("unet_config"), conditioning);
        // The latent size LatentDiffusion samples at; the UNet's own image_size is unused there (v1-inference.yaml says so).
        if (p.Int("image_size") is int latentSize) unet = unet with { ImageSize = latentSize };
        p.Require(p.Int("channels") is null || p.Int("channels") == unet.InChannels, "channels",
            $"the latent channels ({p.Int("channels")}) must equal unet_config in_channels ({unet.InChannels})");
        if (conditioning.Kind != ConditioningKind.None) conditioning = conditioning with { ContextDim = unet.ContextDim ?? conditioning.ContextDim };
        var firstStage = p.Has("first_stage_config") ? FirstStage(p.Mapping("first_stage_config")) : null;
        return new ModelRecipe
        {
            UNet = unet, Schedule = schedule, ScaleByStd = scaleByStd,
            // LatentDiffusion keeps scale_factor as a plain attribute (default 1.0) unless scale_by_std makes it a checkpoint buffer.
            ScaleFactor = scaleByStd ? null : p.Double("scale_factor") ?? 1.0,
            FirstStage = firstStage, Conditioning = conditioning, LossType = lossType, Source = source,
        };
    }

    static ConditioningRecipe Conditioning(Node p)
    {
        var key = p.String("cond_stage_key");
        if (!p.Has("cond_stage_config") || p.String("cond_stage_config") == Unconditional) return ConditioningRecipe.Unconditional;
        if (p.String("cond_stage_config") is { } named)
            throw new CompVisConfigException(p.Source, p.Path("cond_stage_config"), $"'{named}' is not supported (a cond_stage_config mapping or {Unconditional})");
        var stage = p.Mapping("cond_stage_config");
        stage.Only(["target", "params"]);
        var target = stage.String("target") ?? throw new CompVisConfigException(p.Source, stage.Path("target"), "is missing");
        var parameters = stage.Has("params") ? stage.Mapping("params") : null;
        if (target == ClassEmbedderTarget)
        {
            parameters?.Only(["embed_dim", "n_classes", "key"]);
            var classes = parameters?.Int("n_classes") ?? 1000;   // ClassEmbedder's default
            return new ConditioningRecipe(ConditioningKind.Class, key ?? parameters?.String("key") ?? "class", "ClassEmbedder", classes, parameters?.Int("embed_dim"));
        }
        if (TextEncoders.TryGetValue(target, out var encoder))
        {
            // The encoder runs outside this project; its size parameters only describe it.
            parameters?.Only(["n_embed", "n_layer", "vocab_size", "max_seq_len", "device", "use_tokenizer", "embedding_dropout", "version", "max_length"]);
            return new ConditioningRecipe(ConditioningKind.Text, key ?? "caption", encoder, ContextDim: parameters?.Int("n_embed"));
        }
        throw new CompVisConfigException(p.Source, stage.Path("target"),
            $"'{target}' is not supported (ClassEmbedder, {string.Join(", ", TextEncoders.Values)}, or {Unconditional})");
    }

    static UNetConfig UNet(Node config, ConditioningRecipe conditioning)
    {
        config.Only(["target", "params"]);
        config.RequireTarget(UNetTarget);
        var u = config.Mapping("params");
        u.Only([.. RuntimeOnlyUNetKeys, "image_size", "in_channels", "out_channels", "model_channels", "attention_resolutions", "num_res_blocks",
                "channel_mult", "num_heads", "num_head_channels", "num_heads_upsample", "use_scale_shift_norm", "resblock_updown", "conv_resample",
                "dropout", "num_classes", "use_spatial_transformer", "transformer_depth", "context_dim", "dims", "use_new_attention_order", "n_embed"]);
        u.Require(u.Int("dims") is null or 2, "dims", "only 2-D UNets are supported");
        u.Require(u.Bool("use_new_attention_order") is null or false, "use_new_attention_order", "only the legacy QKV order is supported");
        u.Require(!u.Has("n_embed") || u.IsNull("n_embed"), "n_embed", "codebook-index prediction is not supported");
        int Required(string key) => u.Int(key) ?? throw new CompVisConfigException(u.Source, u.Path(key), "is missing");
        var contextDim = u.Int("context_dim");
        var unet = new UNetConfig
        {
            ImageSize = Required("image_size"), InChannels = Required("in_channels"), OutChannels = Required("out_channels"),
            ModelChannels = Required("model_channels"), NumResBlocks = Required("num_res_blocks"),
            AttentionResolutions = u.Ints("attention_resolutions") ?? throw new CompVisConfigException(u.Source, u.Path("attention_resolutions"), "is missing"),
            ChannelMult = u.Ints("channel_mult") ?? [1, 2, 4, 8],
            NumHeads = u.Int("num_heads") ?? -1, NumHeadChannels = u.Int("num_head_channels") ?? -1, NumHeadsUpsample = u.Int("num_heads_upsample") ?? -1,
            UseScaleShiftNorm = u.Bool("use_scale_shift_norm") ?? false, ResblockUpdown = u.Bool("resblock_updown") ?? false,
            ConvResample = u.Bool("conv_resample") ?? true, Dropout = u.Double("dropout") ?? 0.0,
            UseSpatialTransformer = u.Bool("use_spatial_transformer") ?? false, TransformerDepth = u.Int("transformer_depth") ?? 1,
            ContextDim = contextDim,
        };
        switch (conditioning.Kind)
        {
            case ConditioningKind.Class:
                u.Require(contextDim is not null, "context_dim", "a class-conditional cross-attention model needs the width of its class embedding");
                u.Require(conditioning.ContextDim is null || conditioning.ContextDim == contextDim, "context_dim",
                    $"the ClassEmbedder's embed_dim ({conditioning.ContextDim}) must equal the UNet's context_dim ({contextDim})");
                // CompVis cin256-v2 has 1001 rows, label 1000 its unconditional class; any other count has no null class.
                var classes = conditioning.Classes!.Value;
                unet = unet with { NumClasses = classes == 1001 ? 1000 : classes, NullClass = classes == 1001 };
                break;
            case ConditioningKind.Text:
                u.Require(contextDim is not null, "context_dim", "a text-conditional model needs the width of its caption embeddings");
                u.Require(conditioning.ContextDim is null || conditioning.ContextDim == contextDim, "context_dim",
                    $"the text encoder's width ({conditioning.ContextDim}) must equal the UNet's context_dim ({contextDim})");
                unet = unet with { ContextTokens = 77 };   // BERTEmbedder max_seq_len and CLIP max_length: 77 tokens
                break;
            default:
                u.Require(contextDim is null, "context_dim", "an unconditional model (cond_stage_config __is_unconditional__) has no context");
                break;
        }
        if (u.Int("num_classes") is int labels) unet = unet with { NumClasses = labels, NullClass = false };
        try { unet.Validate(); }
        catch (ArgumentException e) { throw new CompVisConfigException(u.Source, u.Path(""), e.Message); }
        return unet;
    }

    static AutoencoderConfig FirstStage(Node config)
    {
        config.Only(["target", "params"]);
        var target = config.String("target") ?? throw new CompVisConfigException(config.Source, config.Path("target"), "is missing");
        if (!FirstStageTargets.TryGetValue(target, out var kind))
            throw new CompVisConfigException(config.Source, config.Path("target"), $"'{target}' is not supported ({string.Join(", ", FirstStageTargets.Keys)})");
        var f = config.Mapping("params");
        f.Only(["embed_dim", "n_embed", "ddconfig", "lossconfig", "ckpt_path", "monitor", "ignore_keys", "image_key"]);
        var dd = f.Mapping("ddconfig");
        dd.Only(["double_z", "z_channels", "resolution", "in_channels", "out_ch", "ch", "ch_mult", "num_res_blocks", "attn_resolutions", "dropout"]);
        dd.Require((dd.Bool("double_z") ?? true) == (kind == AutoencoderKind.Kl), "double_z", kind == AutoencoderKind.Kl
            ? "an AutoencoderKL encodes a mean and a log-variance: double_z must be true" : "a VQ model encodes z itself: double_z must be false");
        long Required(Node node, string key) => node.Int(key) ?? throw new CompVisConfigException(node.Source, node.Path(key), "is missing");
        return new AutoencoderConfig
        {
            Kind = kind, Channels = Required(dd, "ch"), ChannelMult = (dd.Ints("ch_mult") ?? [1, 2, 4, 8]).Select(m => (long)m).ToArray(),
            NumResBlocks = (int)Required(dd, "num_res_blocks"), AttentionResolutions = (dd.Ints("attn_resolutions") ?? []).Select(r => (long)r).ToArray(),
            ZChannels = Required(dd, "z_channels"), EmbedDim = Required(f, "embed_dim"),
            CodebookSize = kind == AutoencoderKind.Vq ? Required(f, "n_embed") : 0,
            Resolution = Required(dd, "resolution"), InChannels = Required(dd, "in_channels"), OutChannels = Required(dd, "out_ch"),
        };
    }

    /// <summary>A mapping of the YAML with its dotted path, for errors that name the key.</summary>
    sealed class Node(string source, string path, YamlMappingNode mapping)
    {
        public string Source => source;

        public string Path(string key) => key.Length == 0 ? path : path.Length == 0 ? key : $"{path}.{key}";

        public bool Has(string key) => mapping.Children.ContainsKey(new YamlScalarNode(key));

        public bool IsNull(string key) => Scalar(key) is { } s && s is "null" or "~" or "None" or "";

        /// <summary>Rejects any key outside <paramref name="known"/>, naming it.</summary>
        public void Only(IReadOnlyCollection<string> known)
        {
            foreach (var key in mapping.Children.Keys.Select(k => ((YamlScalarNode)k).Value ?? ""))
                if (!known.Contains(key))
                    throw new CompVisConfigException(source, Path(key), "is not a key this project understands; remove it or use a config it supports");
        }

        public void Require(bool condition, string key, string reason)
        {
            if (!condition) throw new CompVisConfigException(source, Path(key), reason);
        }

        public void RequireTarget(string expected)
        {
            var target = String("target");
            Require(target == expected, "target", target is null ? $"is missing (expected {expected})" : $"'{target}' is not supported (expected {expected})");
        }

        public Node Mapping(string key) => Child(key) is YamlMappingNode child ? new Node(source, Path(key), child)
            : throw new CompVisConfigException(source, Path(key), Has(key) ? "must be a mapping" : "is missing");

        public string? String(string key) => Child(key) is YamlScalarNode scalar ? scalar.Value : null;

        public double? Double(string key) => Scalar(key) is { } text
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value
                : throw new CompVisConfigException(source, Path(key), $"'{text}' is not a number")
            : null;

        public int? Int(string key) => Scalar(key) is { } text
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
                : throw new CompVisConfigException(source, Path(key), $"'{text}' is not an integer")
            : null;

        public bool? Bool(string key) => Scalar(key)?.ToLowerInvariant() switch
        {
            null => null,
            "true" => true,
            "false" => false,
            var text => throw new CompVisConfigException(source, Path(key), $"'{text}' is not true or false"),
        };

        public int[]? Ints(string key) => Child(key) switch
        {
            null => null,
            YamlSequenceNode sequence => sequence.Children.Select((item, i) => item is YamlScalarNode { Value: { } text }
                    && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
                    : throw new CompVisConfigException(source, $"{Path(key)}[{i}]", "is not an integer")).ToArray(),
            _ => throw new CompVisConfigException(source, Path(key), "must be a list of integers"),
        };

        string? Scalar(string key) => Child(key) switch
        {
            null => null,
            YamlScalarNode scalar => scalar.Value,
            _ => throw new CompVisConfigException(source, Path(key), "must be a single value"),
        };

        YamlNode? Child(string key) => mapping.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;
    }
}

/// <summary>A CompVis config this project cannot reproduce exactly; the message names the file and the key.</summary>
public sealed class CompVisConfigException(string path, string key, string reason)
    : ArgumentException(key.Length == 0 ? $"{path}: {reason}" : $"{path}: {key}: {reason}")
{
    public string Key { get; } = key;
}
