using Google.Protobuf.WellKnownTypes;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class ProtoValuesTests
{
    [Fact]
    public void Violations_NonFiniteMetricValue_NamesItsPath()
    {
        var report = new ProgressReport { Metrics = { new MetricPoint { Name = "loss", Value = 1 }, new MetricPoint { Name = "lr", Value = double.NaN } } };

        var violation = Assert.Single(ProtoValues.Violations(report));

        Assert.Equal("metrics[1].value", violation.Field);
        Assert.Contains("finite", violation.Description);
    }

    [Fact]
    public void Violations_NonFiniteMapValue_NamesTheKey()
    {
        var report = new EvaluationReport { Extra = { ["params"] = double.PositiveInfinity } };

        Assert.Equal("extra[\"params\"]", Assert.Single(ProtoValues.Violations(report)).Field);
    }

    [Theory]
    [InlineData(1, -5)]
    [InlineData(0, 1_000_000_000)]
    [InlineData(Duration.MaxSeconds + 1, 0)]
    public void Violations_DurationNotNormalised_NamesTheField(long seconds, int nanos)
    {
        var request = new GetRequest { RendezvousId = Guid.NewGuid().ToString(), Key = "k", Timeout = new Duration { Seconds = seconds, Nanos = nanos } };

        Assert.Equal("timeout", Assert.Single(ProtoValues.Violations(request)).Field);
    }

    [Fact]
    public void Violations_OrdinaryValues_None()
    {
        var request = new GetRequest { RendezvousId = Guid.NewGuid().ToString(), Key = "ñ 😀", Timeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(-1.5)) };

        Assert.Empty(ProtoValues.Violations(request));
        Assert.Empty(ProtoValues.Violations(new ListJobsRequest { States = { JobState.Running }, Labels = { ["team"] = "vision" } }));
    }
}
