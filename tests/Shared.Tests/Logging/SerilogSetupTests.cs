using Microsoft.Extensions.Configuration;
using Serilog.Events;
using SpectralDiffusion.Shared.Logging;

namespace SpectralDiffusion.Shared.Tests.Logging;

public class SerilogSetupTests
{
    [Fact]
    public void CreateLogger_LevelFromConfiguration_IsHonoured()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Serilog:MinimumLevel:Default"] = "Warning" })
            .Build();

        var logger = SerilogSetup.CreateLogger(configuration, "test");

        Assert.False(logger.IsEnabled(LogEventLevel.Information));
        Assert.True(logger.IsEnabled(LogEventLevel.Warning));
    }

    [Fact]
    public void CreateLogger_JsonFormat_WritesOneJsonEventPerLineWithProperties()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [SerilogSetup.FormatSetting] = "json" })
            .Build();
        var captured = new StringWriter();
        var original = Console.Error;
        Console.SetError(captured);
        try
        {
            using var logger = (Serilog.Core.Logger)SerilogSetup.CreateLogger(configuration, "test");
            logger.Information("Job {JobId} attempt {Attempt} started", "j-1", 2);
        }
        finally { Console.SetError(original); }

        var line = Assert.Single(captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var document = System.Text.Json.JsonDocument.Parse(line);
        Assert.Equal("Job {JobId} attempt {Attempt} started", document.RootElement.GetProperty("@mt").GetString());
        Assert.Equal("j-1", document.RootElement.GetProperty("JobId").GetString());
        Assert.Equal(2, document.RootElement.GetProperty("Attempt").GetInt32());
        Assert.Equal("test", document.RootElement.GetProperty("Application").GetString());
    }

    [Fact]
    public void CreateLogger_UnknownFormat_NamesTheSetting()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [SerilogSetup.FormatSetting] = "xml" })
            .Build();

        var error = Assert.Throws<ArgumentException>(() => SerilogSetup.CreateLogger(configuration, "test"));

        Assert.Contains("SD_LOG_FORMAT 'xml'", error.Message);
    }
}
