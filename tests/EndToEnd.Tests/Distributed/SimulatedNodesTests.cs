using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Distributed;

/// <summary>
/// Ranks on different simulated nodes (network namespaces with their own /dev/shm, links shaped with tc tbf): the
/// hierarchical all-reduce between real processes, and jobs that meet a pulled cable, a node cut off from the
/// orchestrator, and a slow link.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class SimulatedNodesTests(ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(8);

    [SimulatedNodesFact]
    public async Task CollectiveSelftest_TwoNodesOfTwoRanksOverShapedLink_HierarchicalAndExactOnEveryRank()
    {
        // Arrange: ranks 0 and 1 on n1, 2 and 3 on n2, a 1 Gbit/s link, one rendezvous folder on the shared file system.
        await using var cluster = await SimulatedCluster.StartAsync(output, nodes: 2, rate: "1gbit", orchestrator: false);
        var rendezvous = Path.Combine(cluster.Root, "rendezvous");

        // Act
        var ranks = Enumerable.Range(0, 4).Select(rank =>
        {
            var node = rank < 2 ? "n1" : "n2";
            return cluster.StartIn(node, $"rank-{rank}", "worker",
            [
                "collective", "selftest", "--rank", rank.ToString(), "--world", "4", "--rendezvous", rendezvous,
                "--elements", "1000003", "--repeat", "2", "--shared-memory", "--advertise", cluster.AddressOf(node),
            ]);
        }).ToList();
        await Task.WhenAll(ranks.Select(r => r.WaitForExitAsync())).WaitAsync(TimeSpan.FromMinutes(2));

        // Assert: every rank found two nodes of two ranks and got the exact sum both times.
        foreach (var rank in ranks)
        {
            Assert.True(rank.ExitCode == 0, $"{rank.Name} exited with {rank.ExitCode}:\n{rank.Output}");
            Assert.Contains("hierarchical (node 0: ranks 0 1, node 1: ranks 2 3; shared memory within a node", rank.Output);
            Assert.Contains("all-reduce #2 of 1000003 int64 exact", rank.Output);
        }
    }

    [SimulatedNodesFact]
    public async Task Distill_FourAgentsOnTwoNodes_RegisterWithTheirNodeAddressAndSyncHierarchically()
    {
        // Arrange: two agents on each node; a 15 s lease, as five processes share the machine's cores.
        await using var cluster = await SimulatedCluster.StartAsync(output, nodes: 2, leaseSeconds: 15);
        var teacher = TinySpecs.WriteTeacher(cluster.Root);
        string[] nodes = ["n1", "n1", "n2", "n2"];
        var agents = nodes.Select((node, index) => cluster.StartWorker($"agent-{index}", node)).ToList();

        // Act
        var id = await cluster.SubmitAsync(TinySpecs.Distill(teacher, steps: 3, batch: 2, world: 4));
        await cluster.WaitUntilAsync(id, job => job.State == JobState.Succeeded, JobTimeout, "SUCCEEDED");

        // Assert: each agent registered (and any re-registration after a missed lease) with its own node's address, and every rank used the hierarchy.
        var addresses = (await cluster.QueryAsync("SELECT DISTINCT name || '=' || address FROM workers ORDER BY 1"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(nodes.Select((node, index) => $"agent-{index}={cluster.AddressOf(node)}"), addresses);
        Assert.All(agents, agent => Assert.Contains("exchanges gradients through hierarchical", agent.Output));
    }

    [SimulatedNodesFact]
    public async Task Distill_LinkDownMidRun_PeerNamesTheFailureAndJobResumesFromCheckpoint()
    {
        // Arrange
        await using var cluster = await SimulatedCluster.StartAsync(output, nodes: 2);

        // Act: pull n2's cable past the first checkpoint; plug it back once attempt 1 has been given up.
        var (id, finished, survivor, _) = await DistillThroughFaultAsync(cluster,
            fault: () => cluster.SetLinkAsync("n2", up: false), repair: () => cluster.SetLinkAsync("n2", up: true));

        // Assert: attempt 1 ended with the cause named (the lost lease, or the collective that broke first) and stopped on
        // the peer on n1 (aborted by the orchestrator, or failed by its collective); attempt 2 went on from a complete checkpoint.
        var reason = await cluster.QueryAsync($"SELECT end_reason FROM attempts WHERE job_id = '{id}' AND attempt = 1");
        Assert.Matches("(?i)lease|lost|all-reduce|broadcast|barrier", reason);
        Assert.Matches($"Attempt 1 of job {id} (aborted|failed on rank 0)", survivor.Output);
        Assert.True(finished.ResumeStep is > 0 and < FaultSteps && finished.ResumeStep % 4 == 0, $"resumed from step {finished.ResumeStep}");
        await AssertNothingWrittenTwiceAsync(cluster, id, finished);
    }

    [SimulatedNodesFact]
    public async Task Distill_NodeCutOffFromOrchestratorOnly_LeaseExpiresAttemptAbortedAndNothingWrittenTwice()
    {
        // Arrange
        await using var cluster = await SimulatedCluster.StartAsync(output, nodes: 2);

        // Act: n2 still reaches n1, but not the orchestrator; its lease (4 s) expires.
        var (id, finished, _, cutOff) = await DistillThroughFaultAsync(cluster,
            fault: () => cluster.SetIsolatedAsync("n2", isolated: true), repair: () => cluster.SetIsolatedAsync("n2", isolated: false));

        // Assert: the orchestrator gave up on agent-b through its lease, and no rank recorded anything for attempt 1 after it ended.
        var reason = await cluster.QueryAsync($"SELECT end_reason FROM attempts WHERE job_id = '{id}' AND attempt = 1");
        Assert.Matches("(?i)lease|lost", reason);
        var late = await cluster.QueryAsync(
            $"SELECT count(*) FROM metrics m JOIN attempts a USING (job_id, attempt) WHERE m.job_id = '{id}' AND m.attempt = 1 AND m.recorded_at > a.ended_at");
        Assert.Equal("0", late.Trim());
        Assert.Contains($"Attempt 2 of job {id}", cutOff.Output);
        Assert.True(finished.ResumeStep % 4 == 0, $"attempt {finished.Attempt} resumed from step {finished.ResumeStep}");
        await AssertNothingWrittenTwiceAsync(cluster, id, finished);
    }

    [SimulatedNodesFact]
    public async Task Distill_LinkShapedToFourMbit_IsSlowNotDeadAndSucceedsInOneAttempt()
    {
        // Arrange: every link at 4 Mbit/s; a silent peer would fail an all-reduce after 20 s. The lease is 20 s, not 4: the
        // heartbeats share the node's one link with the model upload, and behind it on a 4 Mbit/s link they arrive seconds late.
        await using var cluster = await SimulatedCluster.StartAsync(output, nodes: 2, rate: "4mbit", leaseSeconds: 20);
        var teacher = TinySpecs.WriteTeacher(cluster.Root);
        cluster.StartWorker("agent-a", "n1", collectiveTimeoutSeconds: 20);
        cluster.StartWorker("agent-b", "n2", collectiveTimeoutSeconds: 20);

        // Act
        var id = await cluster.SubmitAsync(TinySpecs.Distill(teacher, steps: 3, batch: 2, world: 2));
        var finished = await cluster.WaitUntilAsync(id, job => job.State == JobState.Succeeded, JobTimeout, "SUCCEEDED");

        // Assert
        Assert.Equal((1, 0), (finished.Attempt, finished.Restarts));
    }

    const int FaultSteps = 12;

    /// <summary>
    /// A distillation over agent-a on n1 and agent-b on n2 (a checkpoint every 4 steps): <paramref name="fault"/> past step
    /// 6, <paramref name="repair"/> once attempt 1 has ended, then on to success in a later attempt.
    /// </summary>
    static async Task<(string Id, Job Finished, ChildProcess OnN1, ChildProcess OnN2)> DistillThroughFaultAsync(SimulatedCluster cluster,
        Func<Task> fault, Func<Task> repair)
    {
        var teacher = TinySpecs.WriteTeacher(cluster.Root);
        var onN1 = cluster.StartWorker("agent-a", "n1", collectiveTimeoutSeconds: 10);
        var onN2 = cluster.StartWorker("agent-b", "n2", collectiveTimeoutSeconds: 10);
        var id = await cluster.SubmitAsync(TinySpecs.Distill(teacher, steps: FaultSteps, batch: 2, world: 2, checkpointEvery: 4));
        await cluster.WaitUntilAsync(id, job => job.Progress?.Step >= 6, JobTimeout, "step 6");
        await fault();
        await cluster.WaitUntilAsync(id, job => job.State == JobState.Queued || job.Attempt >= 2, JobTimeout, "the end of attempt 1");
        await repair();
        var finished = await cluster.WaitUntilAsync(id, job => job.State == JobState.Succeeded, JobTimeout, "SUCCEEDED");
        Assert.True(finished.Attempt >= 2, $"expected a restart, got attempt {finished.Attempt}");
        return (id, finished, onN1, onN2);
    }

    /// <summary>No metric row twice, and the last attempt's loss series runs from the resumed step to the end once.</summary>
    static async Task AssertNothingWrittenTwiceAsync(SimulatedCluster cluster, string id, Job finished, int lastStep = FaultSteps)
    {
        var duplicates = await cluster.QueryAsync(
            $"SELECT count(*) FROM (SELECT 1 FROM metrics WHERE job_id = '{id}' GROUP BY attempt, rank, step, name HAVING count(*) > 1) d");
        Assert.Equal("0", duplicates.Trim());
        var series = await cluster.History.GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = id, Name = "loss" });
        var last = series.Samples.Where(s => s.Attempt == finished.Attempt).Select(s => s.Step).Order().ToList();
        Assert.Equal(Enumerable.Range((int)finished.ResumeStep + 1, lastStep - (int)finished.ResumeStep).Select(s => (long)s), last);
    }
}
