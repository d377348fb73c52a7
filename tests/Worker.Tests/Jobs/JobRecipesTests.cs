using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.Spectral;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Jobs;

/// <summary>A job's schedule, scale factor and gate initialisation come from its spec: the model config, else the preset.</summary>
public class JobRecipesTests
{
    public JobRecipesTests() => TorchRuntime.EnsureLoaded();

    /// <summary>A txt2img-style CompVis config (its schedule and caption context) for the tiny text preset.</summary>
    const string TinyTxt2ImgConfig = """
        model:
          target: ldm.models.diffusion.ddpm.LatentDiffusion
          params:
            linear_start: 0.00085
            linear_end: 0.012
            timesteps: 1000
            cond_stage_key: caption
            conditioning_key: crossattn
            unet_config:
              target: ldm.modules.diffusionmodules.openaimodel.UNetModel
              params:
                image_size: 32
                in_channels: 3
                out_channels: 3
                model_channels: 32
                attention_resolutions: [4]
                num_res_blocks: 2
                channel_mult: [1, 2, 2]
                num_head_channels: 16
                use_spatial_transformer: true
                context_dim: 32
            cond_stage_config:
              target: ldm.modules.encoders.modules.BERTEmbedder
              params:
                n_embed: 32
        """;

    static JobSpec TextSpec(TemporaryFolder folder)
    {
        var config = folder.Combine("txt2img-tiny.yaml");
        File.WriteAllText(config, TinyTxt2ImgConfig);
        return new JobSpec { Type = JobType.Train, Model = new ModelSpec { Preset = "tiny-txt-ldm", Config = config } };
    }

    [Fact]
    public void Sample_TextConfigOnALdmSchedulePreset_RunsDdimOnTheConfigsSchedule()
    {
        using var folder = new TemporaryFolder();
        var spec = TextSpec(folder);
        var sampler = new DdimSampler(NoiseSchedule.From(JobRecipes.Schedule(spec)), steps: 4);
        using var xT = ones(1, 3, 4, 4);

        // With ε̂ = 0 each DDIM step rescales x by √(ᾱ_prev/ᾱ_t), so x_0 = x_T √(ᾱ_0 / ᾱ_τ) with τ the noisiest step.
        using var x0 = sampler.Sample((x, _, _) => zeros_like(x), [1, 3, 4, 4], xT: xT);

        var configured = NoiseSchedule.LdmLinear(1000, 0.00085, 0.012).AlphasCumprod;
        var presets = NoiseSchedule.From(PresetSchedules.Of("tiny-txt-ldm")).AlphasCumprod;
        var tau = sampler.Timesteps[^1];
        Assert.Equal(Math.Sqrt(configured[0] / configured[tau]), x0.mean().item<float>(), 1e-4);
        Assert.NotEqual(Math.Sqrt(presets[0] / presets[tau]), x0.mean().item<float>(), 1e-2);
    }

    [Fact]
    public void Schedule_DistillWithAStudentConfigOfAnotherSchedule_IsRefusedNamingModelConfig()
    {
        using var folder = new TemporaryFolder();
        var spec = TextSpec(folder);
        spec.Type = JobType.Distill;
        spec.Teacher = new ModelSpec { Preset = "tiny-txt-ldm" };

        var error = Assert.Throws<ArgumentException>(() => JobRecipes.Schedule(spec));

        Assert.StartsWith("model.config:", error.Message);
    }

    [Fact]
    public void Schedule_DistillWithATeacherConfigAndAStudentPresetOfAnotherSchedule_IsRefusedNamingModelConfig()
    {
        using var folder = new TemporaryFolder();
        var spec = new JobSpec { Type = JobType.Distill, Teacher = TextSpec(folder).Model, Model = new ModelSpec { Preset = "tiny-txt-sd" } };

        var error = Assert.Throws<ArgumentException>(() => JobRecipes.Schedule(spec));

        Assert.StartsWith("model.config:", error.Message);
        Assert.Contains(spec.Teacher.Config, error.Message);
    }

    [Fact]
    public void Schedule_DistillWithTheTeachersConfigOnBoth_GivesTheTeachersSchedule()
    {
        using var folder = new TemporaryFolder();
        var teacher = TextSpec(folder).Model;
        var spec = new JobSpec { Type = JobType.Distill, Teacher = teacher, Model = new ModelSpec { Preset = "tiny-txt-sd", Config = teacher.Config } };

        Assert.Equal(DiffusionScheduleSettings.StableDiffusion, JobRecipes.Schedule(spec));
    }

    [Fact]
    public void For_ConfigOfAnotherFamily_IsAnErrorNamingTheField()
    {
        using var folder = new TemporaryFolder();
        var spec = TextSpec(folder).Model;
        spec.Preset = "tiny-ldm";   // unconditional: no caption context

        var error = Assert.Throws<ArgumentException>(() => JobRecipes.For(spec));

        Assert.StartsWith("model.config:", error.Message);
        Assert.Contains("context_dim", error.Message);
    }

    [Theory]
    [InlineData("", WaveletGateInit.LowPass)]
    [InlineData("low_pass", WaveletGateInit.LowPass)]
    [InlineData("neutral", WaveletGateInit.Neutral)]
    public void For_GateInit_ReachesTheUNetConfig(string gateInit, WaveletGateInit expected)
    {
        var recipe = JobRecipes.For(new ModelSpec { Preset = "tiny-sd", GateInit = gateInit });

        Assert.Equal(expected, recipe.UNet.GateInit);
    }

    [Fact]
    public void Load_FirstStageWithoutAnyScaleFactor_FailsNamingTheField()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Combine("tiny-kl.safetensors");
        using (var autoencoder = new Autoencoder(AutoencoderPresets.TinyKl()))
            FirstStageCheckpoint.Save(autoencoder, path, "tiny-kl");
        var spec = new FirstStageSpec { Config = "tiny-kl", Checkpoint = path };

        var error = Assert.Throws<ArgumentException>(() => FirstStageLoader.Load(spec, new LoggerConfiguration().CreateLogger(), JobRecipes.For(new ModelSpec { Preset = "tiny-ldm" })));

        Assert.StartsWith("first_stage.scale_factor:", error.Message);
    }

    [Fact]
    public void Load_FirstStageOfTheConfig_TakesTheConfigsScaleFactor()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Combine("kl.safetensors");
        var recipe = JobRecipes.For(new ModelSpec { Preset = "tiny-ldm" }) with { FirstStage = AutoencoderPresets.TinyKl(), ScaleFactor = 0.5 };
        using (var autoencoder = new Autoencoder(AutoencoderPresets.TinyKl()))
            FirstStageCheckpoint.Save(autoencoder, path, "tiny-kl", scaleFactor: 0.25);

        using var latentSpace = FirstStageLoader.Load(new FirstStageSpec { Config = "tiny-kl", Checkpoint = path }, new LoggerConfiguration().CreateLogger(), recipe);

        Assert.Equal(0.5, latentSpace!.ScaleFactor);
    }
}
