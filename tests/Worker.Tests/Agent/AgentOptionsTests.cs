using SpectralDiffusion.Worker.Agent;
using SpectralDiffusion.Worker.Distributed;

namespace SpectralDiffusion.Worker.Tests.Agent;

public class AgentOptionsTests
{
    [Fact]
    public void SharedMemoryRegisteredMiB_Default_IsTheCollectivesDefaultRegion()
    {
        Assert.Equal(TcpRingOptions.DefaultRegisteredBytes, (long)new AgentOptions().SharedMemoryRegisteredMiB << 20);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void Validate_SharedMemoryRegisteredMiBOffOrPositive_Accepted(int mib)
    {
        new AgentOptions { SharedMemoryRegisteredMiB = mib }.Validate();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void Validate_SharedMemoryRegisteredMiBOutOfRange_NamesTheFlag(int mib)
    {
        var error = Assert.Throws<ArgumentException>(() => new AgentOptions { SharedMemoryRegisteredMiB = mib }.Validate());

        Assert.Contains("--shm-registered-mb", error.Message);
        Assert.Contains(mib.ToString(), error.Message);
    }

    [Fact]
    public void Validate_NegativeUnexpectedErrorRetries_NamesTheFlag()
    {
        var error = Assert.Throws<ArgumentException>(() => new AgentOptions { UnexpectedErrorRetries = -1 }.Validate());

        Assert.Contains("--error-retries", error.Message);
        Assert.Contains("-1", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(AgentOptions.DefaultUnexpectedErrorRetries)]
    public void Validate_UnexpectedErrorRetriesZeroOrMore_Accepted(int retries)
    {
        new AgentOptions { UnexpectedErrorRetries = retries }.Validate();
    }
}
