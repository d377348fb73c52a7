using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Coordination;
using SpectralDiffusion.Orchestrator.Hosting;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Security;
using SpectralDiffusion.Orchestrator.Sweeps;
using SpectralDiffusion.Orchestrator.Leases;
using SpectralDiffusion.Orchestrator.Scheduling;
using SpectralDiffusion.Orchestrator.Submission;

namespace SpectralDiffusion.Orchestrator.Tests.Hosting;

public class OrchestratorConfigurationTests
{
    static ServiceProvider Provider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddOrchestratorOptions().BuildServiceProvider();
    }

    static T Value<T>(ServiceProvider provider) where T : class => provider.GetRequiredService<IOptions<T>>().Value;

    [Fact]
    public void AddOrchestratorOptions_DocumentedKeys_ReachTheirFeature()
    {
        using var provider = Provider(new()
        {
            ["Orchestrator:Database"] = "Host=db;Database=x",
            ["Orchestrator:ArtifactRoot"] = "/srv/artifacts",
            ["Orchestrator:RendezvousTimeout"] = "00:01:00",
            ["Orchestrator:Host"] = "0.0.0.0",
            ["Orchestrator:WorkerToken"] = "worker-token-0123456789",
            ["Orchestrator:ApiKeys:0:Key"] = "submit-key-0123456789",
            ["Orchestrator:ApiKeys:0:Role"] = "submit",
            ["Orchestrator:MaxWorldSize"] = "8",
            ["Orchestrator:DataRoots:0"] = "/data",
            ["Orchestrator:SchedulerInterval"] = "00:00:03",
            ["Orchestrator:ReserveAfter"] = "00:00:00",
            ["Orchestrator:Lease"] = "00:01:00",
            ["Orchestrator:HeartbeatInterval"] = "00:00:20",
            ["Orchestrator:WatchdogInterval"] = "00:00:05",
            ["Orchestrator:MaxSweepJobs"] = "12",
            ["Orchestrator:Port"] = "6000",
            ["Orchestrator:DashboardPort"] = "6100",
            ["Orchestrator:MaxMessageBytes"] = "1048576",
            ["Orchestrator:FailedAuthenticationLimit"] = "5",
            ["Orchestrator:FailedAuthenticationWindow"] = "00:00:30",
        });

        Assert.Equal("Host=db;Database=x", Value<DatabaseOptions>(provider).Database);
        Assert.Equal("/srv/artifacts", Value<ArtifactOptions>(provider).ArtifactRoot);
        Assert.Equal(TimeSpan.FromMinutes(1), Value<RendezvousOptions>(provider).RendezvousTimeout);
        var security = Value<SecurityOptions>(provider);
        Assert.Equal(("0.0.0.0", "worker-token-0123456789", "submit-key-0123456789", "submit"), (security.Host, security.WorkerToken, security.ApiKeys[0].Key, security.ApiKeys[0].Role));
        Assert.Equal((5, TimeSpan.FromSeconds(30)), (security.FailedAuthenticationLimit, security.FailedAuthenticationWindow));
        var submission = Value<SubmissionOptions>(provider);
        Assert.Equal((8, "/data"), (submission.MaxWorldSize, submission.DataRoots.Single()));
        var scheduler = Value<SchedulerOptions>(provider);
        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.Zero), (scheduler.SchedulerInterval, scheduler.ReserveAfter));
        var lease = Value<LeaseOptions>(provider);
        Assert.Equal((TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5)), (lease.Lease, lease.HeartbeatInterval, lease.WatchdogInterval));
        Assert.Equal(12, Value<SweepOptions>(provider).MaxSweepJobs);
        var server = Value<ServerOptions>(provider);
        Assert.Equal((6000, 6100, 1048576), (server.Port, server.EffectiveDashboardPort, server.MaxMessageBytes));
    }

    [Fact]
    public void AddOrchestratorOptions_OutOfBounds_FailsNamingTheKey()
    {
        using var provider = Provider(new() { ["Orchestrator:Lease"] = "00:00:05", ["Orchestrator:HeartbeatInterval"] = "00:00:05" });

        var error = Assert.Throws<OptionsValidationException>(() => Value<LeaseOptions>(provider));

        Assert.Contains(error.Failures, f => f.Contains("Orchestrator:Lease"));
        Assert.Equal(DatabaseOptions.DefaultDatabase, Value<DatabaseOptions>(provider).Database);
    }

    [Fact]
    public void Problems_PublicBindWithoutSecrets_RequiresTokenAndKeys()
    {
        var options = new SecurityOptions { Host = "0.0.0.0" };

        var problems = options.Problems().ToList();

        Assert.Contains(problems, p => p.Contains("Orchestrator:WorkerToken"));
        Assert.Contains(problems, p => p.Contains("Orchestrator:ApiKeys"));
        Assert.Empty(new SecurityOptions().Problems());
    }

    [Fact]
    public void Problems_KeyOrTokenShorterThan16_NamesTheKeyNotItsValue()
    {
        var options = new SecurityOptions
        {
            WorkerToken = "short-token", ApiKeys = [new() { Key = "long-enough-api-key", Role = "submit" }, new() { Key = "short-key", Role = "read" }],
        };

        var problems = options.Problems().ToList();

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.Contains("Orchestrator:WorkerToken is 11 characters") && p.Contains("at least 16"));
        Assert.Contains(problems, p => p.Contains("Orchestrator:ApiKeys:1:Key is 9 characters"));
        Assert.DoesNotContain(problems, p => p.Contains("short-token") || p.Contains("short-key"));
    }

    [Fact]
    public void Problems_Defaults_NoneInAnyFeature()
    {
        var problems = new DatabaseOptions().Problems().Concat(new ArtifactOptions().Problems()).Concat(new RendezvousOptions().Problems())
            .Concat(new SubmissionOptions().Problems()).Concat(new SchedulerOptions().Problems()).Concat(new LeaseOptions().Problems())
            .Concat(new SweepOptions().Problems()).Concat(new ServerOptions().Problems());

        Assert.Empty(problems);
    }

    [Fact]
    public void Problems_DashboardOnTheGrpcPort_Named()
    {
        var options = new ServerOptions { Port = 7000, DashboardPort = 7000 };

        Assert.Contains(options.Problems(), p => p.Contains("Orchestrator:DashboardPort"));
    }

    [Fact]
    public void Problems_RelativeDataRoot_NamesItsIndex()
    {
        var options = new SubmissionOptions { DataRoots = ["/data", "relative"] };

        Assert.Equal(["Orchestrator:DataRoots:1 is 'relative'; must be an absolute folder without '..'"], options.Problems());
    }
}
