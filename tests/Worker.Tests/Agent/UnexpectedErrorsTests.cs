using Grpc.Core;
using SpectralDiffusion.Worker.Agent;

namespace SpectralDiffusion.Worker.Tests.Agent;

public class UnexpectedErrorsTests
{
    static RpcException Internal(string detail = "boom") => new(new Status(StatusCode.Internal, detail));

    [Theory]
    [InlineData(StatusCode.Internal, true)]
    [InlineData(StatusCode.Unknown, true)]
    [InlineData(StatusCode.Unavailable, false)]
    [InlineData(StatusCode.NotFound, false)]
    public void Counts_Status_OnlyInternalAndUnknown(StatusCode status, bool counted)
    {
        Assert.Equal(counted, UnexpectedErrors.Counts(new RpcException(new Status(status, ""))));
    }

    [Fact]
    public void TryRetry_BeyondTheRetries_RefusesAndTheErrorSaysWhatFailedHowOften()
    {
        var errors = new UnexpectedErrors("Register", "http://orchestrator:5080", retries: 2);

        var allowed = new[] { errors.TryRetry(Internal()), errors.TryRetry(Internal()), errors.TryRetry(Internal("database exploded")) };
        var failure = errors.Exhausted();

        Assert.Equal([true, true, false], allowed);
        Assert.Contains("Register", failure.Message);
        Assert.Contains("Internal 3 times in a row", failure.Message);
        Assert.Contains("database exploded", failure.Message);
        Assert.Contains("http://orchestrator:5080", failure.Message);
        Assert.IsType<RpcException>(failure.InnerException);
    }

    [Fact]
    public void TryRetry_AfterASuccess_CountsFromZeroAgain()
    {
        var errors = new UnexpectedErrors("Heartbeat", "http://orchestrator:5080", retries: 1);
        errors.TryRetry(Internal());

        errors.Succeeded();

        Assert.True(errors.TryRetry(Internal()));
        Assert.False(errors.TryRetry(Internal()));
    }

    [Fact]
    public void TryRetry_NoRetries_RefusesTheFirst()
    {
        Assert.False(new UnexpectedErrors("Heartbeat", "http://orchestrator:5080", retries: 0).TryRetry(Internal()));
    }
}
