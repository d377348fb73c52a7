using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Tests.Domain;

public class JobStatesTests
{
    [Fact]
    public void Names_JobState_StoredNamesInLifecycleOrderWithoutUnspecified()
    {
        var names = JobStates.Names<JobState>();

        Assert.Equal(["QUEUED", "SCHEDULED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"], names);
        Assert.All(names, name => Assert.Equal(name, JobStates.Name(JobStates.Parse(name))));
    }

    [Fact]
    public void Names_JobType_EachParsesBackToItsType()
    {
        var names = JobStates.Names<JobType>();

        Assert.Equal(["TRAIN", "DISTILL", "EVALUATE"], names);
        Assert.All(names, name => Assert.Equal(name, JobStates.Name(JobStates.ParseType(name))));
    }
}
