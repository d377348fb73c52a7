using SpectralDiffusion.Orchestrator.Security;

namespace SpectralDiffusion.Orchestrator.Tests.Domain;

public class AccessPolicyTests
{
    [Theory]
    [InlineData("/spectral.v1.Jobs/Submit", Credential.SubmitKey)]
    [InlineData("/spectral.v1.Jobs/Cancel", Credential.SubmitKey)]
    [InlineData("/spectral.v1.Jobs/Watch", Credential.ReadKey)]
    [InlineData("/spectral.v1.RunHistory/ListRuns", Credential.ReadKey)]
    [InlineData("/spectral.v1.Sweeps/Submit", Credential.SubmitKey)]
    [InlineData("/spectral.v1.Sweeps/Cancel", Credential.SubmitKey)]
    [InlineData("/spectral.v1.Sweeps/Report", Credential.ReadKey)]
    [InlineData("/spectral.v1.Sweeps/List", Credential.ReadKey)]
    [InlineData("/spectral.v1.Workers/Register", Credential.WorkerToken)]
    [InlineData("/spectral.v1.Workers/List", Credential.ReadKey)]
    [InlineData("/spectral.v1.Workers/DownloadArtifact", Credential.WorkerIdentity)]
    [InlineData("/spectral.v1.JobArtifacts/List", Credential.ReadKey)]
    [InlineData("/spectral.v1.JobArtifacts/Download", Credential.ReadKey)]
    [InlineData("/spectral.v1.Workers/Heartbeat", Credential.WorkerIdentity)]
    [InlineData("/spectral.v1.Workers/KeepAlive", Credential.WorkerIdentity)]
    [InlineData("/spectral.v1.Workers/ReportProgress", Credential.WorkerIdentity)]
    [InlineData("/spectral.v1.Workers/CompleteAttempt", Credential.WorkerIdentity)]
    [InlineData("/spectral.v1.Workers/UploadArtifact", Credential.WorkerIdentity)]
    [InlineData("/spectral.v1.Rendezvous/Get", Credential.WorkerIdentity)]
    [InlineData("/spectral.v1.Workers/ShipLogs", Credential.WorkerIdentity)]
    [InlineData("/spectral.v1.Logs/Read", Credential.ReadKey)]
    [InlineData("/grpc.health.v1.Health/Check", Credential.None)]
    public void For_Method_NeedsCredential(string method, Credential expected)
    {
        Assert.Equal(expected, AccessPolicy.For(method));
    }
}
