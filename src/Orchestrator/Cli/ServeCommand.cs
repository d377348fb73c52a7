using System.CommandLine;
using Serilog;
using SpectralDiffusion.Shared.Logging;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator serve</c>: runs the gRPC server until SIGINT/SIGTERM.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Run the gRPC orchestrator (configuration: appsettings.json, environment, --key=value).");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellation) =>
        {
            var builder = WebApplication.CreateBuilder(parse.UnmatchedTokens.ToArray());
            Log.Logger = SerilogSetup.CreateLogger(builder.Configuration, "orchestrator");
            builder.Host.UseSerilog();
            builder.Services.AddGrpc();
            builder.Services.AddGrpcHealthChecks();
            var app = builder.Build();
            app.MapGrpcHealthChecksService();
            await app.RunAsync(cancellation);
            return 0;
        });
        return command;
    }
}
