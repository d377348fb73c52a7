using System.CommandLine;
using Grpc.Health.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator health</c>: asks a server's grpc.health.v1 service; exit 0 when SERVING (container health checks use it).</summary>
public static class HealthCommand
{
    public static Command Create() =>
        CliContext.Verb("health", "Check that an orchestrator serves (gRPC health); exit code 0 when it does.", async (_, cli, cancellation) =>
        {
            var response = await new Health.HealthClient(cli.Invoker).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellation);
            Console.WriteLine(response.Status.ToString().ToLowerInvariant());
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
        });
}
