using System.CommandLine;
using System.Text.Json;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Recipes;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker config show FILE.yaml [--json]</c>: what this project resolves from a CompVis config.</summary>
public static class ConfigCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A CompVis config YAML (configs/latent-diffusion/*.yaml, configs/stable-diffusion/v1-inference.yaml)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var show = new Command("show", "Print the schedule, scale factor, UNet (parameters, MACs), first stage and conditioning a CompVis config resolves to; " +
                                       "a key this project cannot reproduce is an error naming it.");
        show.Arguments.Add(file);
        show.Options.Add(json);
        show.SetAction(parse => CliErrors.Run(() =>
        {
            var recipe = CompVisConfig.Load(parse.GetValue(file)!);
            TorchRuntime.EnsureLoaded();
            var summary = Summarize(recipe);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }) : Describe(summary));
        }));
        var command = new Command("config", "CompVis config files as model inputs.");
        command.Subcommands.Add(show);
        return command;
    }

    /// <summary>The resolved recipe with its counts, as printed (and as the JSON output's fields).</summary>
    public sealed record ConfigSummary(
        string Source, double LinearStart, double LinearEnd, int Timesteps, string Parameterization, double? ScaleFactor, bool ScaleByStd,
        string LossType, long UNetParameters, long UNetParametersWithoutEmbeddings, long UNetMacs, int LatentSize, int LatentChannels,
        string? FirstStage, string? FirstStageKind, long? FirstStageParameters, string Conditioning);

    public static ConfigSummary Summarize(ModelRecipe recipe)
    {
        var (parameters, withoutEmbeddings, macs) = ShapeOnlyModels.Measure(recipe.UNet);
        return new ConfigSummary(recipe.Source, recipe.Schedule.LinearStart, recipe.Schedule.LinearEnd, recipe.Schedule.Timesteps, "eps",
            recipe.ScaleFactor, recipe.ScaleByStd, recipe.LossType, parameters, withoutEmbeddings, macs, recipe.UNet.ImageSize, recipe.UNet.InChannels,
            recipe.FirstStage is null ? null : recipe.FirstStageName ?? "custom", recipe.FirstStage?.Kind.ToString().ToUpperInvariant(),
            recipe.FirstStage is { } firstStage ? FirstStageParameters(firstStage) : null, recipe.Conditioning.ToString());
    }

    static string Describe(ConfigSummary s) => string.Join(Environment.NewLine,
        $"config          {s.Source}",
        $"schedule        linear β {s.LinearStart:G6} → {s.LinearEnd:G6}, T = {s.Timesteps}, parameterization {s.Parameterization}, loss {s.LossType}",
        $"scale factor    {(s.ScaleFactor is double f ? $"{f:G6}" : s.ScaleByStd ? "from the checkpoint (scale_by_std)" : "none")}",
        $"UNet            {s.UNetParameters:N0} parameters ({s.UNetParametersWithoutEmbeddings:N0} without the conditioning embeddings), " +
        $"{s.UNetMacs / 1e9:F2}G MACs on {s.LatentSize}×{s.LatentSize}×{s.LatentChannels} latents",
        $"first stage     {(s.FirstStage is null ? "none (pixel space)" : $"{s.FirstStage} ({s.FirstStageKind}, {s.FirstStageParameters:N0} parameters)")}",
        $"conditioning    {s.Conditioning}");

    /// <summary>The first stage's parameter count, from a model built on the meta device (no memory for its weights).</summary>
    static long FirstStageParameters(AutoencoderConfig config) => ShapeOnlyModels.OnMeta(() =>
    {
        using var model = new Autoencoder(config);
        return ModelStatistics.CountParameters(model);
    });
}
