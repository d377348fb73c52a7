using System.CommandLine;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker evaluate</c>: the evaluation verbs (FID, frequency errors and spectra).</summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var command = new Command("evaluate", "Evaluate generated images against real ones: FID and frequency errors.");
        command.Subcommands.Add(EvaluateFidCommand.Create());
        command.Subcommands.Add(EvaluateSpectrumCommand.Create());
        return command;
    }

    internal static Option<DirectoryInfo> FolderOption(string name, string description) =>
        new(name) { Description = description, Required = true };
}
