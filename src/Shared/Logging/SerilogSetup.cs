using Microsoft.Extensions.Configuration;
using Serilog;
using Serilog.Events;
using Serilog.Settings.Configuration;

namespace SpectralDiffusion.Shared.Logging;

/// <summary>Structured console logging for both executables; the level comes from configuration
/// (<c>Serilog:MinimumLevel</c> in appsettings, <c>Serilog__MinimumLevel__Default</c> in the environment).</summary>
public static class SerilogSetup
{
    public static ILogger CreateLogger(IConfiguration configuration, string application)
    {
        var logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("Application", application)
            // Name the sink assemblies instead of letting Serilog scan the dependency context: executables that share
            // an output folder (tests, containers) would otherwise look for each other's assemblies.
            .ReadFrom.Configuration(configuration, new ConfigurationReaderOptions(typeof(ConsoleLoggerConfigurationExtensions).Assembly))
            .WriteTo.Console(
                outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose);
        return logger.CreateLogger();
    }

    /// <summary>Configuration from appsettings.json beside the executable, the environment and the command line.</summary>
    public static IConfiguration DefaultConfiguration(string[]? args = null) =>
        new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
}
