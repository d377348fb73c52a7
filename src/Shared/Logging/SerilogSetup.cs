using Microsoft.Extensions.Configuration;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Settings.Configuration;

namespace SpectralDiffusion.Shared.Logging;

/// <summary>Structured console logging for both executables; the level comes from configuration
/// (<c>Serilog:MinimumLevel</c> in appsettings, <c>Serilog__MinimumLevel__Default</c> in the environment), and the format
/// from <c>SD_LOG_FORMAT</c>: <c>text</c> (default, for people) or <c>json</c> (one compact JSON event per line, for
/// container log collectors).</summary>
public static class SerilogSetup
{
    public const string FormatSetting = "SD_LOG_FORMAT";

    public static ILogger CreateLogger(IConfiguration configuration, string application)
    {
        var json = configuration[FormatSetting]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "text" => false,
            "json" => true,
            var other => throw new ArgumentException($"{FormatSetting} '{other}' is not a log format: text or json"),
        };
        var logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
            // A failing readiness check is the prober's answer (503), not an error: a standby orchestrator fails it by design.
            .MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Fatal)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("Application", application)
            // Name the sink assemblies instead of letting Serilog scan the dependency context: executables that share
            // an output folder (tests, containers) would otherwise look for each other's assemblies.
            .ReadFrom.Configuration(configuration, new ConfigurationReaderOptions(typeof(ConsoleLoggerConfigurationExtensions).Assembly));
        if (json) logger.WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose);
        else
            logger.WriteTo.Console(
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
