using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class JobSpecValidatorTests
{
    readonly JobSpecValidator validator = new(maxWorldSize: 8);

    [Fact]
    public void Validate_ValidSpecsOfEveryType_HasNoViolations()
    {
        Assert.Empty(validator.Validate(ValidSpecs.Train()));
        Assert.Empty(validator.Validate(ValidSpecs.Distill()));
        Assert.Empty(validator.Validate(ValidSpecs.Evaluate()));
    }

    public static TheoryData<string, string, string> BrokenSpecs => new()
    {
        // case name, field path expected, a word the reason must contain
        { "world size 0", "spec.world_size", "at least 1" },
        { "world size above max", "spec.world_size", "at most 8" },
        { "unknown preset", "spec.model.preset", "tiny-sd" },
        { "negative steps", "spec.schedule.steps", "negative" },
        { "zero steps", "spec.schedule.steps", "positive" },
        { "negative batch", "spec.schedule.batch_size", "negative" },
        { "missing dataset", "spec.dataset", "required" },
        { "empty image folder", "spec.dataset.image_folder.path", "required" },
        { "distill without teacher", "spec.teacher", "teacher" },
        { "teacher without weights", "spec.teacher.checkpoint", "weights" },
        { "evaluate without settings", "spec.evaluation", "evaluation settings" },
        { "missing type", "spec.type", "train, distill or evaluate" },
        { "missing model", "spec.model", "required" },
        { "bad artifact ref", "spec.model.checkpoint", "sha256" },
        { "bad job ref", "spec.model.checkpoint", "job id" },
        { "negative learning rate", "spec.optimizer.learning_rate", "positive" },
        { "negative max restarts", "spec.max_restarts", "between 0" },
        { "all losses disabled", "spec.distillation", "nothing would be trained" },
        { "teacher on train job", "spec.teacher", "only distill" },
        { "NUL in name", "spec.name", "NUL" },
        { "NUL in label", "spec.labels[\"team\"]", "NUL" },
        { "type 99", "spec.type", "is 99" },
        { "device 77", "spec.device", "cpu, cuda" },
        { "label value too long", "spec.labels", "at most 256" },
        { "huge unknown preset", "spec.model.preset", "(100000 characters)" },
        { "image size 7", "spec.dataset.image_size", "32" },
        { "teacher of another image size", "spec.teacher.preset", "64" },
        { "teacher of other classes", "spec.teacher.preset", "classes" },
        { "checkpoint traversal", "spec.model.checkpoint", "'..'" },
        { "image folder traversal", "spec.dataset.image_folder.path", "'..'" },
        { "2^62 steps", "spec.schedule.steps", "at most 1000000000" },
        { "warm-up beyond steps", "spec.optimizer.warmup_steps", "must not exceed schedule.steps" },
        { "batch above the dataset", "spec.schedule.batch_size", "only 8 images" },
        { "huge batch", "spec.schedule.batch_size", "at most 65536" },
        { "huge procedural count", "spec.dataset.procedural.count", "1 to 10000000" },
        { "huge torch threads", "spec.torch_threads", "1 to 1024" },
    };

    [Theory]
    [MemberData(nameof(BrokenSpecs))]
    public void Validate_BrokenField_NamesFieldAndReason(string broken, string field, string reason)
    {
        var spec = Break(broken);

        var violations = validator.Validate(spec);

        var violation = Assert.Single(violations, v => v.Field == field);
        Assert.Contains(reason, violation.Description);
    }

    [Fact]
    public void Validate_ServerRules_RejectAbsolutePathsOutsideTheDataRootsInEveryPathField()
    {
        var validator = new JobSpecValidator(8, SpecPathRules.Server(["/data"]));
        var spec = ValidSpecs.Distill();
        spec.Model.Checkpoint = "/etc/passwd";
        spec.Teacher.Checkpoint = "/root/teacher.ckpt";
        spec.Dataset.ImageFolder = new ImageFolderDataset { Path = "/home" };
        spec.Evaluation = new EvaluationSpec { NumSamples = 4, DdimSteps = 10, InceptionWeights = "/tmp/inception.pth" };

        var fields = validator.Validate(spec).Where(v => v.Description.Contains("Orchestrator:DataRoots")).Select(v => v.Field);

        Assert.Equal(["spec.model.checkpoint", "spec.teacher.checkpoint", "spec.dataset.image_folder.path", "spec.evaluation.inception_weights"], fields);
    }

    [Fact]
    public void Validate_ImageSizeZeroOrThePresetsOwn_Accepted()
    {
        var spec = ValidSpecs.Train();
        spec.Dataset.ImageSize = 0;
        var own = ValidSpecs.Train();
        own.Dataset.ImageSize = 32;

        Assert.Empty(validator.Validate(spec));
        Assert.Empty(validator.Validate(own));
    }

    [Theory]
    [InlineData(3, "t = 1000", "use 2 or 4")]
    [InlineData(9, "t = 1000", "use 8 or 10")]
    public void Validate_DdimStepsWhoseGridReachesT_NamesFieldValueAndUsableNeighbours(int steps, string reason, string neighbours)
    {
        var spec = ValidSpecs.Evaluate();
        spec.Evaluation.DdimSteps = steps;

        var violation = Assert.Single(validator.Validate(spec));

        Assert.Equal("spec.evaluation.ddim_steps", violation.Field);
        Assert.StartsWith($"is {steps};", violation.Description);
        Assert.Contains(reason, violation.Description);
        Assert.Contains(neighbours, violation.Description);
    }

    [Theory]
    [InlineData(125)]
    [InlineData(30)]
    public void Validate_DdimStepsWhoseGridStaysBelowT_Accepted(int steps)
    {
        var spec = ValidSpecs.Evaluate();
        spec.Evaluation.DdimSteps = steps;

        Assert.Empty(validator.Validate(spec));
    }

    [Fact]
    public void Validate_NullSpec_IsRejected()
    {
        Assert.Equal("spec", Assert.Single(validator.Validate(null)).Field);
    }

    [Fact]
    public void Constructor_NonPositiveMaxWorldSize_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new JobSpecValidator(0));
    }

    static JobSpec Break(string broken)
    {
        switch (broken)
        {
            case "teacher of another image size": { var s = ValidSpecs.Distill(); s.Teacher.Preset = "ldm-ffhq"; return s; }
            case "teacher of other classes": { var s = ValidSpecs.Distill(); s.Model.Preset = "tiny-cin-sd"; return s; }
            case "distill without teacher": { var s = ValidSpecs.Distill(); s.Teacher = null; return s; }
            case "teacher without weights": { var s = ValidSpecs.Distill(); s.Teacher.Checkpoint = ""; return s; }
            case "evaluate without settings": { var s = ValidSpecs.Evaluate(); s.Evaluation = null; return s; }
            case "all losses disabled":
            {
                var s = ValidSpecs.Distill();
                s.Distillation.DisableDdpm = s.Distillation.DisableSpatial = s.Distillation.DisableFreq = true;
                return s;
            }
        }
        var spec = ValidSpecs.Train();
        switch (broken)
        {
            case "world size 0": spec.WorldSize = 0; break;
            case "world size above max": spec.WorldSize = 9; break;
            case "unknown preset": spec.Model.Preset = "tiny-sdd"; break;
            case "negative steps": spec.Schedule.Steps = -5; break;
            case "zero steps": spec.Schedule.Steps = 0; break;
            case "negative batch": spec.Schedule.BatchSize = -1; break;
            case "missing dataset": spec.Dataset = null; break;
            case "empty image folder": spec.Dataset.ImageFolder = new ImageFolderDataset(); break;
            case "missing type": spec.Type = JobType.Unspecified; break;
            case "missing model": spec.Model = null; break;
            case "bad artifact ref": spec.Model.Checkpoint = "artifact:xyz"; break;
            case "bad job ref": spec.Model.Checkpoint = "job:42"; break;
            case "negative learning rate": spec.Optimizer.LearningRate = -1; break;
            case "negative max restarts": spec.MaxRestarts = -1; break;
            case "image size 7": spec.Dataset.ImageSize = 7; break;
            case "checkpoint traversal": spec.Model.Checkpoint = "runs/../../etc/passwd"; break;
            case "image folder traversal": spec.Dataset.ImageFolder = new ImageFolderDataset { Path = "../../home" }; break;
            case "NUL in name": spec.Name = "a\0b"; break;
            case "NUL in label": spec.Labels["team"] = "\0"; break;
            case "type 99": spec.Type = (JobType)99; break;
            case "device 77": spec.Device = (DeviceKind)77; break;
            case "label value too long": spec.Labels["team"] = new string('v', 257); break;
            case "huge unknown preset": spec.Model.Preset = new string('p', 100_000); break;
            case "2^62 steps": spec.Schedule.Steps = 1L << 62; break;
            case "warm-up beyond steps": spec.Optimizer.WarmupSteps = (int)spec.Schedule.Steps + 1; break;
            case "batch above the dataset":
                spec.Dataset.Procedural = new ProceduralDataset { Seed = 1, Count = 8 };
                spec.WorldSize = 2;
                spec.Schedule.BatchSize = 5;
                break;
            case "huge batch":
                spec.Dataset.Procedural = new ProceduralDataset { Seed = 1, Count = JobSpecValidator.MaxImages };
                spec.Schedule.BatchSize = 1 << 20;
                break;
            case "huge procedural count": spec.Dataset.Procedural = new ProceduralDataset { Seed = 1, Count = int.MaxValue }; break;
            case "huge torch threads": spec.TorchThreads = 100_000; break;
            case "teacher on train job": spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = "x.pt" }; break;
            default: throw new ArgumentException($"unknown case {broken}");
        }
        return spec;
    }
}
