using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Shared.Sweeps;

namespace SpectralDiffusion.Shared.Tests.Sweeps;

public class SweepExpansionTests
{
    static readonly JobSpecValidator Validator = new(JobSpecValidator.DefaultMaxWorldSize);

    const string Table5 = """
        name: table5
        base:
          type: train
          model: { preset: tiny-ldm }
          dataset: { procedural: { seed: 1, count: 64 }, image_size: 32 }
          schedule: { steps: 20, batch_size: 4 }
        seeds: [11, 12, 13]
        arms:
          - { name: teacher, set: [model.preset=tiny-ldm] }
        axes:
          - name: model
            values:
              - { name: lite, set: [type=distill, model.preset=tiny-lite-ldm, teacher.preset=tiny-ldm, teacher.checkpoint=arm:teacher] }
              - { name: sd, set: [type=distill, model.preset=tiny-sd, teacher.preset=tiny-ldm, teacher.checkpoint=arm:teacher] }
          - name: spatial
            values:
              - { name: spatial, set: [] }
              - { name: nospatial, set: [distillation.disable_spatial=true] }
          - name: freq
            values:
              - { name: freq, set: [] }
              - { name: nofreq, set: [distillation.disable_freq=true] }
        """;

    static SweepSpec Parse(string yaml) => SweepSpecYaml.Parse(yaml, "sweep.yaml", ".");

    static IReadOnlyList<FieldViolation> Violations(SweepSpec spec, int maxJobs = 256) =>
        Assert.Throws<SweepSpecException>(() => SweepExpansion.Expand(spec, maxJobs, Validator)).Violations;

    [Fact]
    public void Expand_Table5Grid_OneJobPerArmAndSeedWithNamesLabelsAndSeeds()
    {
        var expanded = SweepExpansion.Expand(Parse(Table5), 256, Validator);

        Assert.Equal(9, expanded.Arms.Count);
        Assert.Equal(["teacher", "lite-spatial-freq", "lite-spatial-nofreq", "lite-nospatial-freq", "lite-nospatial-nofreq",
            "sd-spatial-freq", "sd-spatial-nofreq", "sd-nospatial-freq", "sd-nospatial-nofreq"], expanded.Arms);
        Assert.Equal(27, expanded.Jobs.Count);
        Assert.Equal(27, expanded.Jobs.Select(j => j.Id).Distinct().Count());
        var job = Assert.Single(expanded.Jobs, j => j.Arm == "sd-nospatial-freq" && j.Seed == 12);
        Assert.Equal("table5/sd-nospatial-freq/seed12", job.Spec.Name);
        Assert.Equal(12, job.Spec.Schedule.Seed);
        Assert.Equal(JobType.Distill, job.Spec.Type);
        Assert.Equal("tiny-sd", job.Spec.Model.Preset);
        Assert.True(job.Spec.Distillation.DisableSpatial);
        Assert.False(job.Spec.Distillation.DisableFreq);
        Assert.Equal("sd-nospatial-freq", job.Spec.Labels["arm"]);
        Assert.Equal("12", job.Spec.Labels["seed"]);
        Assert.Equal("table5", job.Spec.Labels["sweep"]);
        Assert.Equal([11L, 12L, 13L], expanded.Jobs.Where(j => j.Arm == "lite-spatial-freq").Select(j => j.Seed));
    }

    [Fact]
    public void Expand_StudentArms_DistilFromTheTeacherJobOfTheSameSeed()
    {
        var expanded = SweepExpansion.Expand(Parse(Table5), 256, Validator);

        var teachers = expanded.Jobs.Where(j => j.Arm == "teacher").ToDictionary(j => j.Seed, j => j.Id);
        foreach (var student in expanded.Jobs.Where(j => j.Arm != "teacher"))
        {
            Assert.Equal($"job:{teachers[student.Seed]}", student.Spec.Teacher.Checkpoint);
            Assert.Equal([teachers[student.Seed]], student.DependsOn);
            Assert.Equal(["teacher"], student.DependsOnArms);
        }
        Assert.All(expanded.Jobs.Where(j => j.Arm == "teacher"), t => Assert.Empty(t.DependsOn));
        // Dependencies come first: every job's inputs are earlier in the list (the order they are inserted).
        var position = expanded.Jobs.Select((j, i) => (j.Id, i)).ToDictionary(x => x.Id, x => x.i);
        Assert.All(expanded.Jobs, j => Assert.All(j.DependsOn, d => Assert.True(position[d] < position[j.Id])));
    }

    [Fact]
    public void Expand_ArmListedBeforeItsTeacher_TeacherStillComesFirst()
    {
        var spec = Parse(Table5);
        spec.Arms.Add(new SweepArm { Name = "early", Set = { "type=distill", "model.preset=tiny-sd", "teacher.preset=tiny-ldm", "teacher.checkpoint=arm:late" } });
        spec.Arms.Add(new SweepArm { Name = "late", Set = { "model.preset=tiny-ldm" } });
        spec.Axes.Clear();

        var expanded = SweepExpansion.Expand(spec, 256, Validator);

        Assert.Equal(["teacher", "late", "early"], expanded.Jobs.Select(j => j.Arm).Distinct());
    }

    [Fact]
    public void Expand_UnknownOverrideKey_NamesTheArmAndSuggestsTheKey()
    {
        var spec = Parse(Table5);
        spec.Axes[1].Values[1].Set[0] = "distillation.disable_spatail=true";

        var violations = Violations(spec);

        Assert.Contains(violations, v => v.Field == "spec.arms[lite-nospatial-freq].set" && v.Description.Contains("disable_spatail")
                                         && v.Description.Contains("did you mean 'disable_spatial'"));
    }

    [Fact]
    public void Expand_GridOverTheCap_RefusedBeforeExpanding()
    {
        var violations = Violations(Parse(Table5), maxJobs: 20);

        var violation = Assert.Single(violations);
        Assert.Contains("27 jobs (9 arms × 3 seeds)", violation.Description);
        Assert.Contains("Orchestrator:MaxSweepJobs", violation.Description);
    }

    [Fact]
    public void Expand_TeacherPresetNotTheArmItNames_CannotBeAligned()
    {
        var spec = Parse(Table5);
        spec.Arms[0].Set[0] = "model.preset=tiny-lite-ldm";

        var violations = Violations(spec);

        Assert.Contains(violations, v => v.Field == "spec.arms[sd-spatial-freq].teacher.preset" && v.Description.Contains("'tiny-lite-ldm'"));
    }

    [Fact]
    public void Expand_TeacherThatCannotTeachTheStudent_NamesTheArm()
    {
        var spec = Parse(Table5);
        spec.Arms[0].Set[0] = "model.preset=tiny-cin-ldm";

        var violations = Violations(spec);

        Assert.Contains(violations, v => v.Field.StartsWith("spec.arms[", StringComparison.Ordinal) && v.Field.EndsWith("teacher.preset", StringComparison.Ordinal));
    }

    [Fact]
    public void Expand_DependencyCycle_NamesTheCycle()
    {
        var spec = Parse(Table5);
        spec.Axes.Clear();
        spec.Arms.Add(new SweepArm { Name = "a", Set = { "type=distill", "model.preset=tiny-ldm", "teacher.preset=tiny-ldm", "teacher.checkpoint=arm:b" } });
        spec.Arms.Add(new SweepArm { Name = "b", Set = { "type=distill", "model.preset=tiny-ldm", "teacher.preset=tiny-ldm", "teacher.checkpoint=arm:a" } });

        var violations = Violations(spec);

        Assert.Contains(violations, v => v.Field == "spec.arms" && v.Description.Contains("dependency cycle: a → b → a"));
    }

    [Fact]
    public void Expand_ReferenceToNoArm_SuggestsTheClosest()
    {
        var spec = Parse(Table5);
        spec.Axes[0].Values[0].Set[3] = "teacher.checkpoint=arm:teachr";

        var violations = Violations(spec);

        Assert.Contains(violations, v => v.Description.Contains("did you mean 'teacher'"));
    }

    [Fact]
    public void Expand_DuplicateSeedsOrArmNames_Refused()
    {
        var seeds = Parse(Table5);
        seeds.Seeds.Add(11);
        var arms = Parse(Table5);
        arms.Arms.Add(new SweepArm { Name = "sd-spatial-freq" });

        Assert.Contains(Violations(seeds), v => v.Field == "spec.seeds" && v.Description.Contains("seed 11"));
        Assert.Contains(Violations(arms), v => v.Field == "spec.arms" && v.Description.Contains("'sd-spatial-freq' is used 2 times"));
    }

    [Fact]
    public void Parse_UnknownSweepKey_NamesLineAndSuggests()
    {
        var e = Assert.Throws<JobSpecFormatException>(() => Parse("name: x\nsedes: [1]\n"));

        Assert.Contains("sweep.yaml:2", e.Message);
        Assert.Contains("did you mean 'seeds'", e.Message);
    }

    [Fact]
    public void ApplyTo_NullClearsASection()
    {
        var spec = JobSpecYaml.Parse("""
            type: distill
            model: { preset: tiny-sd }
            teacher: { preset: tiny-ldm, checkpoint: /t.safetensors }
            dataset: { procedural: { seed: 1, count: 64 } }
            schedule: { steps: 10 }
            """);

        var train = JobSpecOverrides.ApplyTo(spec, ["type=train", "teacher=null", "distillation=null"], "test");

        Assert.Null(train.Teacher);
        Assert.Null(train.Distillation);
        Assert.Empty(Validator.Validate(train));
    }
}
