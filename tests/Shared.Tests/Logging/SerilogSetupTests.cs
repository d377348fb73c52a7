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
}
