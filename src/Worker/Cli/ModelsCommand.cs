using System.CommandLine;
using System.Text.Json;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker models [--json]</c>: every preset's parameters and MACs next to the paper's figures.</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array of {preset, params, macs, ...} instead of a table." };
        var command = new Command("models", "List the UNet presets with their parameter and MAC counts (ptflops convention, batch 1) and the paper's figures; " +
                                            "parameters with and without the conditioning embeddings (the paper counts without); then the first-stage autoencoders.");
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            TorchRuntime.EnsureLoaded();
            var summaries = new List<ModelSummary>();
            foreach (var preset in UNetPresets.Names)
            {
                Console.Error.Write($"\rmeasuring {preset,-20}");
                summaries.Add(ModelSummary.Measure(preset));
            }
            Console.Error.Write("\r" + new string(' ', 40) + "\r");
            var firstStages = AutoencoderPresets.Names.Select(FirstStageSummary.Measure).ToList();
            if (parse.GetValue(json)) PrintJson(summaries, firstStages);
            else
            {
                PrintTable(summaries);
                PrintFirstStages(firstStages);
            }
            return 0;
        });
        return command;
    }

    /// <summary>A first-stage config and its parameter count (CompVis model.py layout).</summary>
    sealed record FirstStageSummary(string Config, string Kind, long Params, long Factor, long LatentChannels)
    {
        public static FirstStageSummary Measure(string name)
        {
            var config = AutoencoderPresets.Get(name);
            using var model = new Autoencoder(config);
            return new(name, config.Kind.ToString().ToUpperInvariant(), ModelStatistics.CountParameters(model), config.DownsamplingFactor, config.LatentChannels);
        }
    }

    static void PrintFirstStages(IEnumerable<FirstStageSummary> firstStages)
    {
        Console.WriteLine();
        Console.WriteLine($"{"first stage",-20} {"kind",-5} {"params",14} {"latent",-16}");
        foreach (var f in firstStages)
            Console.WriteLine($"{f.Config,-20} {f.Kind,-5} {f.Params,14:N0} {$"H/{f.Factor}×W/{f.Factor}×{f.LatentChannels}",-16}");
    }

    static void PrintJson(IEnumerable<ModelSummary> summaries, IEnumerable<FirstStageSummary> firstStages)
    {
        var rows = summaries.Select(s => new
        {
            preset = s.Preset, @params = s.Params, params_with_embeddings = s.ParamsWithEmbeddings, macs = s.Macs, input = $"{s.ImageSize}x{s.ImageSize}x{s.InChannels}",
            paper_params = s.PaperParams, paper_macs = s.PaperMacs, params_ratio = s.ParamsRatio, macs_ratio = s.MacsRatio,
        });
        var stages = firstStages.Select(f => new { first_stage = f.Config, kind = f.Kind, @params = f.Params, factor = f.Factor, latent_channels = f.LatentChannels });
        Console.WriteLine(JsonSerializer.Serialize(rows.Cast<object>().Concat(stages), new JsonSerializerOptions { WriteIndented = true }));
    }

    static void PrintTable(IEnumerable<ModelSummary> summaries)
    {
        Console.WriteLine($"{"preset",-20} {"input",-10} {"params",12} {"+embedder",12} {"paper",8} {"ratio",6} {"MACs",10} {"paper",8} {"ratio",6}");
        foreach (var s in summaries)
            Console.WriteLine($"{s.Preset,-20} {$"{s.ImageSize}x{s.ImageSize}x{s.InChannels}",-10} {s.Params / 1e6,11:F3}M {s.ParamsWithEmbeddings / 1e6,11:F3}M " +
                              $"{Figure(s.PaperParams, 1e6, "M"),8} {Ratio(s.ParamsRatio),6} {s.Macs / 1e9,9:F3}G {Figure(s.PaperMacs, 1e9, "G"),8} {Ratio(s.MacsRatio),6}");
        Console.WriteLine($"params: without the conditioning embeddings; +embedder: with the class embedder and any learned null context. " +
                          $"The ratios use params: {ModelSummary.PaperConvention}.");
    }

    static string Figure(double? value, double unit, string suffix) => value is double v ? $"{v / unit:F1}{suffix}" : "-";

    static string Ratio(double? ratio) => ratio is double r ? $"{r:F3}" : "-";
}
