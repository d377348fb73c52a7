using System.CommandLine;

namespace SpectralDiffusion.Worker.Cli;

/// <summary>The worker executable's verbs. Each verb lives in its own file and only parses and delegates.</summary>
public static class WorkerCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Spectral Diffusion worker: the training engine (TorchSharp) and the orchestrator agent.");
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(CheckpointCommand.Create());
        root.Subcommands.Add(UNetEvalCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(CollectiveCommand.Create());
        return root;
    }
}
