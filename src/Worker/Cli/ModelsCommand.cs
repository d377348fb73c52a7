using System.CommandLine;
using System.Text.Json;
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
                                            "parameters with and without the conditioning embeddings (the paper counts without).");
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
            if (parse.GetValue(json)) PrintJson(summaries);
            else PrintTable(summaries);
            return 0;
        });
        return command;
    }

    static void PrintJson(IEnumerable<ModelSummary> summaries)
    {
        var rows = summaries.Select(s => new
        {
            preset = s.Preset, @params = s.Params, params_with_embeddings = s.ParamsWithEmbeddings, macs = s.Macs, input = $"{s.ImageSize}x{s.ImageSize}x{s.InChannels}",
            paper_params = s.PaperParams, paper_macs = s.PaperMacs, params_ratio = s.ParamsRatio, macs_ratio = s.MacsRatio,
        });
        Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
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
