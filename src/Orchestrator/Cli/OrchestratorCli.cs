using System.CommandLine;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>The orchestrator executable's verbs: <c>serve</c> runs the gRPC server; the others are ops verbs that talk to one.</summary>
public static class OrchestratorCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Spectral Diffusion orchestrator: the gRPC server and the ops CLI.");
        foreach (var verb in new[]
                 {
                     ServeCommand.Create(), SubmitCommand.Create(), ResubmitCommand.Create(), ListCommand.Create(), ShowCommand.Create(), WatchCommand.Create(),
                     CancelCommand.Create(), WorkersCommand.Create(), RunsCommand.Create(), HealthCommand.Create(), GcCommand.Create(),
                     SweepCommand.Create(), ArtifactsCommand.Create(), DownloadCommand.Create(), LogsCommand.Create(),
                 })
            root.Subcommands.Add(verb);
        return root;
    }
}
