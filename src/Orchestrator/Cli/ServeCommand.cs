using System.CommandLine;
using SpectralDiffusion.Orchestrator.Hosting;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator serve</c>: runs the gRPC server until SIGINT/SIGTERM, then stops gracefully (in-flight work commits).</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Run the gRPC orchestrator (configuration: appsettings.json, environment Orchestrator__X, --Orchestrator:X=value).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellation) =>
        {
            var builder = WebApplication.CreateBuilder(parse.UnmatchedTokens.ToArray());
            builder.AddOrchestrator();
            await using var app = builder.Build();
            app.MapOrchestrator();
            await app.RunAsync(cancellation);
            return 0;
        });
        return command;
    }
}
