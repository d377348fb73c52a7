using System.CommandLine;
using System.Text.Json;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker evaluate spectrum --real DIR --generated DIR --out DIR [--json]</c>: the paper's Table 1 errors and a spectrum plot.</summary>
public static class EvaluateSpectrumCommand
{
    const int Batch = 64;

    public static Command Create()
    {
        var real = EvaluateCommand.FolderOption("--real", "Folder of real images (PNG/JPEG).");
        var generated = EvaluateCommand.FolderOption("--generated", "Folder of generated images (PNG/JPEG), the same size as the real ones.");
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for power-spectrum.png and frequency-errors.json.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("spectrum", "Low/high-frequency errors of the mean log-magnitude spectrum (paper Table 1) and radially averaged power spectra.") { real, generated, output, json };
        command.SetAction(parse => Run(parse.GetRequiredValue(real), parse.GetRequiredValue(generated), parse.GetRequiredValue(output), parse.GetValue(json)));
        return command;
    }

    static int Run(DirectoryInfo real, DirectoryInfo generated, DirectoryInfo output, bool json)
    {
        try
        {
            TorchRuntime.EnsureLoaded();
            var realImages = new ImageFolderDataset(real.FullName);
            var generatedImages = new ImageFolderDataset(generated.FullName);
            var progress = new ConsoleProgress("spectrum", "images");
            long total = realImages.Count + generatedImages.Count;
            var realSpectrum = Accumulate(realImages, done => progress.Report(done, total));
            var generatedSpectrum = Accumulate(generatedImages, done => progress.Report(realImages.Count + done, total));
            var errors = FrequencyErrors.Compute(realSpectrum, generatedSpectrum);

            Directory.CreateDirectory(output.FullName);
            var plot = Path.Combine(output.FullName, EvaluationArtifacts.SpectrumPlot);
            Plots.PowerSpectra(plot, RadialPowerSpectrum.From(realSpectrum),
                new Dictionary<string, RadialPowerSpectrum> { ["generated"] = RadialPowerSpectrum.From(generatedSpectrum) });
            var result = JsonSerializer.Serialize(new
            {
                low_frequency_error = errors.LowFrequencyError, high_frequency_error = errors.HighFrequencyError, cutoff = errors.Cutoff,
                height = errors.Height, width = errors.Width, real = realImages.Count, generated = generatedImages.Count, plot,
            });
            var resultPath = Path.Combine(output.FullName, EvaluationArtifacts.FrequencyErrorsFile);
            File.WriteAllText(resultPath + ".tmp", result);
            File.Move(resultPath + ".tmp", resultPath, overwrite: true);
            Console.WriteLine(json ? result
                : $"low-frequency error {errors.LowFrequencyError:F4}  high-frequency error {errors.HighFrequencyError:F4}  (cut-off radius {errors.Cutoff:F1}; plot {plot})");
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or TorchLoadException or UnauthorizedAccessException)
        {
            return EvaluateFidCommand.Fail(e.Message);
        }
    }

    static SpectrumStatistics Accumulate(IImageDataset images, Action<long> progress)
    {
        var statistics = new SpectrumStatistics();
        for (var start = 0; start < images.Count; start += Batch)
        {
            var count = Math.Min(Batch, images.Count - start);
            using var scope = TorchSharp.torch.NewDisposeScope();
            statistics.Add(images.GetRange(start, count));
            progress(start + count);
        }
        return statistics;
    }
}
