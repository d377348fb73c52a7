using System.CommandLine;
using System.Text.Json;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker evaluate fid --real DIR --generated DIR --inception-weights FILE [--json] [--batch N]</c>.</summary>
public static class EvaluateFidCommand
{
    public static Command Create()
    {
        var real = EvaluateCommand.FolderOption("--real", "Folder of real images (PNG/JPEG).");
        var generated = EvaluateCommand.FolderOption("--generated", "Folder of generated images (PNG/JPEG).");
        var weights = new Option<FileInfo?>("--inception-weights") { Description = $"pytorch-fid Inception weights as zip .pth or safetensors (see {InceptionWeights.DocumentationPath})." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var batch = new Option<int>("--batch") { Description = "Images per Inception forward pass.", DefaultValueFactory = _ => 50 };
        var command = new Command("fid", "Print the FID between two image folders, computed exactly as pytorch-fid does.") { real, generated, weights, json, batch };
        command.SetAction(parse => Run(parse.GetRequiredValue(real), parse.GetRequiredValue(generated), parse.GetValue(weights), parse.GetValue(json), parse.GetValue(batch)));
        return command;
    }

    static int Run(DirectoryInfo real, DirectoryInfo generated, FileInfo? weights, bool json, int batch)
    {
        if (batch < 1) return Fail($"--batch must be at least 1, got {batch}");
        if (weights is null) return Fail($"--inception-weights is required. {InceptionWeights.HowToObtain}");
        try
        {
            TorchRuntime.EnsureLoaded();
            var realImages = new ImageFolderDataset(real.FullName);
            var generatedImages = new ImageFolderDataset(generated.FullName);
            using var model = InceptionWeights.Load(weights.FullName);
            var progress = new ConsoleProgress("fid", "images");
            var fid = new FidCalculator(model, batch).Fid(realImages, generatedImages, progress.Report);
            Console.WriteLine(json
                ? JsonSerializer.Serialize(new { fid, real = realImages.Count, generated = generatedImages.Count, real_skipped = realImages.SkippedFiles.Count, generated_skipped = generatedImages.SkippedFiles.Count })
                : $"FID {fid:F4}  ({realImages.Count} real, {generatedImages.Count} generated images)");
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or TorchLoadException or UnauthorizedAccessException)
        {
            return Fail(e.Message);
        }
    }

    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }
}
