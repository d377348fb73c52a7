using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Pipeline;

/// <summary>A worker process reports what it resolved for its run; the orchestrator process stores it and shows it on the job page.</summary>
[Collection(EndToEndCollection.Name)]
public class RunSettingsProcessTests(ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task LatentJobWithNeutralGates_RealWorker_ReportsScheduleScaleFactorAndGatesShownOnTheJobPage()
    {
        // Arrange: a tiny-kl first stage whose checkpoint records the scale factor, and one worker.
        await using var cluster = await LocalCluster.StartAsync(output);
        TinySpecs.WriteTinyKl(cluster.Root, scaleFactor: 0.5, seed: 5);
        cluster.StartWorker("settings-worker");
        var spec = TinySpecs.Latent(TinySpecs.Train("tiny-sd", steps: 1, batch: 2, world: 1));
        spec.Model.GateInit = PresetSchedules.Neutral;

        // Act
        var job = await cluster.SubmitAsync(spec);
        await cluster.WaitForAsync(job, JobTimeout, JobState.Succeeded);
        var reported = await cluster.History.GetRunSettingsAsync(new GetRunSettingsRequest { JobId = job });
        using var dashboard = new HttpClient { BaseAddress = new Uri(cluster.DashboardAddress) };
        dashboard.DefaultRequestHeaders.Add("x-api-key", LocalCluster.ApiKey);
        var page = await dashboard.GetStringAsync($"/ui/jobs/{job}");

        // Assert: the preset's schedule, the checkpoint's scale factor, the spec's gate initialisation.
        var settings = Assert.Single(reported.Attempts);
        var preset = PresetSchedules.Of("tiny-sd");
        Assert.Equal(1, settings.Attempt);
        Assert.Equal((preset.LinearStart, preset.LinearEnd, preset.Timesteps), (settings.BetaStart, settings.BetaEnd, settings.Timesteps));
        Assert.Equal("eps", settings.Parameterization);
        Assert.Contains("tiny-sd", settings.ScheduleSource);
        Assert.True(settings.HasScaleFactor);
        Assert.Equal(0.5, settings.ScaleFactor);
        Assert.Equal("the checkpoint", settings.ScaleFactorSource);
        Assert.Equal("tiny-kl", settings.FirstStage);
        Assert.Equal("", settings.ModelConfig);
        Assert.Equal(PresetSchedules.Neutral, settings.GateInit);
        Assert.Contains("id=\"run-settings\"", page);
        Assert.Contains("0.5 (from the checkpoint), first stage tiny-kl", page);
        Assert.Contains(PresetSchedules.Neutral, page);
    }
}
