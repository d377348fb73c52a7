using SpectralDiffusion.Worker.Cli;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Cli;

/// <summary>
/// The text-to-image pipeline through the worker's own verbs: a tiny text-conditioned teacher trained on captioned
/// images, an SD student distilled from it on the same captions, then guided samples from a caption file.
/// </summary>
[Collection(TorchThreadsCollection.Name)]
public class TextPipelineTests
{
    [Fact]
    public void TrainDistillSample_TinyTextModels_WritesGuidedSamples()
    {
        // Arrange: 8 captioned 32×32 images (caption embeddings 8×32, the tiny-txt presets' L and D).
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryFolder();
        var (images, captions) = CaptionedFolder.Write(folder.Path, count: 8, size: 32, tokens: 8, width: 32);
        var dataset = $"dataset: {{ image_folder: {{ path: '{images}', caption_embeddings: '{captions}' }}, image_size: 32 }}";
        var schedule = "schedule: { steps: 6, batch_size: 4, seed: 5, log_every: 1 }\noptimizer: { learning_rate: 0.001, warmup_steps: 0, ema_decay: 0.9 }";
        File.WriteAllText(folder.Combine("teacher.yaml"), $"name: text-teacher\ntype: train\nmodel: {{ preset: tiny-txt-ldm }}\n{dataset}\n{schedule}\nconditioning: {{ dropout: 0.5 }}\n");
        var teacherModel = folder.Combine("teacher", "model-ema.safetensors");
        File.WriteAllText(folder.Combine("student.yaml"),
            $"name: text-student\ntype: distill\nmodel: {{ preset: tiny-txt-sd }}\nteacher: {{ preset: tiny-txt-ldm, checkpoint: '{teacherModel}' }}\n{dataset}\n{schedule}\n");
        var prompt = folder.Combine("prompt.safetensors");
        ContextFile.Write(prompt, randn(8, 32, generator: new Generator(9)));

        // Act
        var teacherExit = WorkerCli.Build().Parse(["train", folder.Combine("teacher.yaml"), "--out", folder.Combine("teacher")]).Invoke();
        var studentExit = WorkerCli.Build().Parse(["distill", folder.Combine("student.yaml"), "--out", folder.Combine("student")]).Invoke();
        var sampleExit = WorkerCli.Build().Parse(["sample", "--checkpoint", folder.Combine("student", "model-ema.safetensors"), "--context", prompt,
            "--guidance", "3", "--num", "2", "--steps", "4", "--out", folder.Combine("samples")]).Invoke();

        // Assert
        Assert.Equal((0, 0, 0), (teacherExit, studentExit, sampleExit));
        using var student = UNetCheckpoint.LoadAny(folder.Combine("student", "model-ema.safetensors"), null);
        using var teacher = UNetCheckpoint.LoadAny(teacherModel, null);
        Assert.True(student.Config.IsTextConditional && student.Config.WaveletGating);
        Assert.True(student.NullContext!.allclose(teacher.NullContext!, rtol: 0, atol: 0), "the student samples with the teacher's null context");
        Assert.False(teacher.NullContext!.abs().sum().item<float>() == 0, "caption dropout trained the teacher's null context");
        Assert.True(File.Exists(folder.Combine("samples", "grid.png")));
        Assert.Equal(2, Directory.GetFiles(folder.Combine("samples"), "sample-*.png").Length);
    }

    [Fact]
    public void Sample_TextModelWithContextOfWrongWidth_FailsNamingTheOption()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryFolder();
        manual_seed(3);
        using (var model = new UNetModel(UNetPresets.TinyTxtSd())) UNetCheckpoint.Save(model, folder.Combine("model.safetensors"), "tiny-txt-sd");
        ContextFile.Write(folder.Combine("prompt.safetensors"), zeros(8, 16));

        var (exit, error) = WorkerCliRun.Invoke("sample", "--checkpoint", folder.Combine("model.safetensors"), "--context", folder.Combine("prompt.safetensors"),
            "--num", "1", "--steps", "2", "--out", folder.Combine("samples"));

        Assert.NotEqual(0, exit);
        Assert.Contains("--context", error);
        Assert.Contains("context_dim 32", error);
    }
}
