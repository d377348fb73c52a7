using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// Spectrum-aware distillation (paper §5.2): the frozen teacher and the student see the same x_t; the student's
/// tapped decoder features pass through 1×1 aligners and are compared with the teacher's at the same resolution.
/// Both always see the same conditioning: the same labels or captions, and the same null context where one was dropped
/// (a student with a learned null context takes the teacher's, frozen).
/// </summary>
public sealed class DistillationObjective : ITrainingObjective
{
    readonly UNetModel teacher;
    readonly UNetModel student;
    readonly FeatureAligners aligners;
    readonly SpectralDistillationLoss loss;
    readonly NoiseSchedule schedule;
    readonly IReadOnlyList<(string Student, string Teacher)> taps;
    readonly List<(string, Parameter)> parameters;
    readonly StepPhases? phases;

    /// <param name="studentTaps">student module names to distil; null = the student's default taps (last decoder block per resolution).</param>
    /// <param name="phases">charged with the teacher's forward pass (the trainer's <see cref="DiffusionTrainer.Phases"/>), if given.</param>
    public DistillationObjective(UNetModel teacher, UNetModel student, SpectralDistillationLoss loss, NoiseSchedule schedule, IReadOnlyList<string>? studentTaps = null,
        StepPhases? phases = null)
    {
        this.phases = phases;
        CheckCompatible(teacher.Config, student.Config);
        this.teacher = teacher;
        this.student = student;
        this.loss = loss;
        this.schedule = schedule;
        taps = MatchTaps(teacher, student, studentTaps ?? student.DefaultFeatureTaps);
        aligners = new FeatureAligners(taps.ToDictionary(t => t.Student, t => (student.FeatureChannels(t.Student), teacher.FeatureChannels(t.Teacher))));

        teacher.eval();
        foreach (var parameter in teacher.parameters()) parameter.requires_grad = false;
        if (student.NullContext is { } studentNull)
        {
            using (no_grad()) studentNull.copy_(teacher.NullContext!);
            studentNull.requires_grad = false;
        }

        parameters = student.named_parameters().Where(p => p.parameter.requires_grad).Select(p => ("model." + p.name, p.parameter))
            .Concat(aligners.named_parameters().Select(p => ("aligners." + p.name, p.parameter))).ToList();
    }

    public nn.Module Model => student;
    public FeatureAligners Aligners => aligners;
    /// <summary>Student tap → teacher tap at the same resolution.</summary>
    public IReadOnlyList<(string Student, string Teacher)> Taps => taps;
    public IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters => parameters;

    public IEnumerable<(string Name, Tensor Tensor)> StateTensors() =>
        ModelState.Tensors("model.", student).Concat(ModelState.Tensors("aligners.", aligners));

    public IReadOnlyDictionary<string, Tensor> Loss(Tensor x0, Conditioning conditioning, Tensor timesteps, Tensor noise)
    {
        var xt = schedule.QSample(x0, timesteps, noise);
        Tensor teacherOutput;
        IReadOnlyDictionary<string, Tensor> teacherFeatures;
        using (no_grad())
            (teacherOutput, teacherFeatures) = teacher.ForwardWithFeatures(xt, timesteps, conditioning, taps.Select(t => t.Teacher).ToList());
        phases?.Lap(StepPhases.Teacher);
        var (studentOutput, studentFeatures) = student.ForwardWithFeatures(xt, timesteps, conditioning, taps.Select(t => t.Student).ToList());

        var pairs = new List<FeaturePair> { new("out", teacherOutput, studentOutput) };
        foreach (var (studentTap, teacherTap) in taps)
            pairs.Add(new FeaturePair(studentTap, teacherFeatures[teacherTap], aligners.forward(studentTap, studentFeatures[studentTap])));
        var terms = loss.Compute(noise, studentOutput, pairs, x0);
        return new Dictionary<string, Tensor>
        {
            ["loss"] = terms.Total, ["loss_ddpm"] = terms.Ddpm, ["loss_spatial"] = terms.Spatial, ["loss_freq"] = terms.Frequency,
        };
    }

    static void CheckCompatible(UNetConfig teacher, UNetConfig student)
    {
        void Require(bool ok, string what) { if (!ok) throw new ArgumentException($"teacher and student cannot be distilled: {what}"); }
        Require(teacher.ImageSize == student.ImageSize, $"image size {teacher.ImageSize} vs {student.ImageSize}");
        Require(teacher.InChannels == student.InChannels && teacher.OutChannels == student.OutChannels,
            $"channels in/out {teacher.InChannels}/{teacher.OutChannels} vs {student.InChannels}/{student.OutChannels}");
        Require(teacher.NumClasses == student.NumClasses, $"classes {teacher.NumClasses?.ToString() ?? "none"} vs {student.NumClasses?.ToString() ?? "none"}");
        Require(teacher.IsTextConditional == student.IsTextConditional && (!teacher.IsTextConditional || teacher.ContextDim == student.ContextDim),
            $"text context {(teacher.IsTextConditional ? $"D = {teacher.ContextDim}" : "none")} vs {(student.IsTextConditional ? $"D = {student.ContextDim}" : "none")}; both must read the same captions");
        Require(teacher.LearnedNullContext == student.LearnedNullContext && teacher.ContextTokens == student.ContextTokens,
            $"learned null context {(teacher.LearnedNullContext ? $"of {teacher.ContextTokens} rows" : "none")} vs {(student.LearnedNullContext ? $"of {student.ContextTokens} rows" : "none")}; the student takes the teacher's");
    }

    /// <summary>Pairs each student tap with the teacher's default tap at the same downsampling factor.</summary>
    static List<(string, string)> MatchTaps(UNetModel teacher, UNetModel student, IReadOnlyList<string> studentTaps)
    {
        var teacherByFactor = teacher.DefaultFeatureTaps.GroupBy(teacher.FeatureDownsampleFactor).ToDictionary(g => g.Key, g => g.Last());
        var pairs = new List<(string, string)>();
        foreach (var tap in studentTaps)
        {
            var factor = student.FeatureDownsampleFactor(tap);
            if (!teacherByFactor.TryGetValue(factor, out var teacherTap))
                throw new ArgumentException(
                    $"student feature '{tap}' (1/{factor} resolution) cannot be aligned: the teacher has decoder taps only at 1/{string.Join(", 1/", teacherByFactor.Keys.Order())}");
            pairs.Add((tap, teacherTap));
        }
        return pairs;
    }

    public void Dispose() => aligners.Dispose();
}
