using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>What the server makes of a submitted spec: the defaults it fills in.</summary>
public class SubmitTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    [Fact]
    public async Task Submit_MaxRestartsUnset_GetsTheSameDefaultAsYaml()
    {
        var spec = Specs.Train(worldSize: 8);
        spec.ClearMaxRestarts();
        var yaml = JobSpecYaml.Parse("""
            type: train
            model: { preset: tiny-ldm }
            dataset: { procedural: { seed: 1, count: 8 } }
            schedule: { steps: 10 }
            """);

        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec });

        Assert.Equal(JobSpecDefaults.MaxRestarts, job.Spec.MaxRestarts);
        Assert.Equal(yaml.MaxRestarts, job.Spec.MaxRestarts);
        Assert.Equal(JobSpecDefaults.MaxRestarts, await fixture.Database.ScalarAsync<int>($"SELECT max_restarts FROM jobs WHERE id = '{job.Id}'"));
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task Submit_MaxRestartsExplicitlyZero_StaysZero()
    {
        var spec = Specs.Train(worldSize: 8, maxRestarts: 0);

        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec });

        Assert.Equal(0, job.Spec.MaxRestarts);
        Assert.True(job.Spec.HasMaxRestarts);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }
}
