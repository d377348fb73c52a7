using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Spectral;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// What a run resolved from its spec: the forward process and where it came from (the teacher's for a distill job), the
/// latent scale factor and its source, the first stage, the CompVis configs named, and the wavelet gates' initialisation
/// ("" for a model without gates). Rank 0 reports it at the start of each attempt (<see cref="IJobHost.PublishRunSettings"/>).
/// </summary>
public sealed record ResolvedRunSettings(DiffusionScheduleSettings Schedule, string ScheduleSource, double? ScaleFactor, string ScaleFactorSource,
    string FirstStage, string ModelConfig, string TeacherConfig, string GateInit)
{
    /// <summary>The only parameterisation this project trains and samples (CompVis's default).</summary>
    public const string Parameterization = "eps";

    public static ResolvedRunSettings Of(JobSpec spec, LatentSpace? latentSpace)
    {
        var model = JobRecipes.For(spec.Model);
        var distills = spec.Type == JobType.Distill && spec.Teacher is not null;
        var gated = model.UNet.WaveletGating;
        return new ResolvedRunSettings(JobRecipes.Schedule(spec), distills ? JobRecipes.For(spec.Teacher!, "teacher").Source : model.Source,
            latentSpace?.ScaleFactor, latentSpace?.ScaleFactorSource ?? "", latentSpace?.ConfigName ?? "", spec.Model.Config,
            distills ? spec.Teacher!.Config : "",
            !gated ? "" : model.UNet.GateInit == WaveletGateInit.Neutral ? PresetSchedules.Neutral : PresetSchedules.LowPass);
    }

    public override string ToString() =>
        $"schedule {Schedule} from {ScheduleSource}; scale factor {(ScaleFactor is { } scale ? $"{scale:G6} from {ScaleFactorSource}" : "none (pixel space)")}; " +
        $"config {(ModelConfig.Length > 0 ? ModelConfig : "the preset's")}{(TeacherConfig.Length > 0 ? $", teacher {TeacherConfig}" : "")}; " +
        $"gate init {(GateInit.Length > 0 ? GateInit : "none")}";
}
