using System.CommandLine;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Worker.Cli;

/// <summary>The worker executable's verbs. Each verb lives in its own file and only parses and delegates.</summary>
public static class WorkerCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Spectral Diffusion worker: the training engine (TorchSharp) and the orchestrator agent.");
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(JobSpecVerb.Create("train", JobType.Train, "Train a teacher or baseline from a job spec, in this process."));
        root.Subcommands.Add(JobSpecVerb.Create("distill", JobType.Distill, "Distil an SD student from a teacher checkpoint, in this process."));
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(CheckpointCommand.Create());
        root.Subcommands.Add(AutoencoderCommand.Create());
        root.Subcommands.Add(LatentCacheCommand.Create());
        root.Subcommands.Add(UNetEvalCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(CollectiveCommand.Create());
        root.Subcommands.Add(AgentCommand.Create());
        root.Subcommands.Add(SampleCommand.Create());
        return root;
    }
}
