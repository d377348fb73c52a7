using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SpectralDiffusion.Orchestrator.Tests.Clients;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.JobLogs;

/// <summary>Job logs through the real server: shipping scoped to the caller's rank, the head-and-tail cap, safe text, reading and following.</summary>
public class JobLogsTests(JobLogsTests.SmallCapFixture fixture) : IClassFixture<JobLogsTests.SmallCapFixture>
{
    public const int Head = 3, Tail = 4;

    public sealed class SmallCapFixture : ServerFixture
    {
        protected override IDictionary<string, string?> Overrides => new Dictionary<string, string?>
        {
            ["Orchestrator:LogHeadLines"] = Head.ToString(), ["Orchestrator:LogTailLines"] = Tail.ToString(),
        };
    }

    readonly OrchestratorServer server = fixture.Server;

    [Fact]
    public async Task ShipLogs_OwnRank_ReadBackInOrderWithTimeLevelAndText()
    {
        await using var run = await TwoRankJob.StartAsync(server, "logs-order");
        var at = new DateTime(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc);

        await ShipAsync(run.A, run.StartA, ("INF", "loading weights", at), ("WRN", "slow step", at.AddSeconds(1)));
        await ShipAsync(run.B, run.StartB, ("ERR", "rank 1 lost its peer", at.AddSeconds(2)));
        var lines = await ReadAsync(new ReadLogsRequest { JobId = run.Job.Id });

        Assert.Equal(["loading weights", "slow step", "rank 1 lost its peer"], lines.Select(l => l.Text));
        Assert.Equal(["INF", "WRN", "ERR"], lines.Select(l => l.Level));
        Assert.Equal([0, 0, 1], lines.Select(l => l.Rank));
        Assert.Equal([1L, 2L, 1L], lines.Select(l => l.Sequence));
        Assert.Equal(at.AddSeconds(2), lines[2].Time.ToDateTime());
        Assert.All(lines, l => Assert.Equal(run.StartA.Attempt, l.Attempt));
    }

    [Fact]
    public async Task ShipLogs_RankOfAnotherWorker_PermissionDeniedAndNothingStored()
    {
        await using var run = await TwoRankJob.StartAsync(server, "logs-scope");

        // Worker A ships as rank 1, which worker B runs.
        var refused = await Assert.ThrowsAsync<RpcException>(() => ShipAsync(run.A, run.StartB, ("INF", "not mine", DateTime.UtcNow)));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("rank 1", refused.Status.Detail);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM job_log_lines WHERE job_id = '{run.Job.Id}'"));
    }

    [Fact]
    public async Task ShipLogs_NulBytesAndInvalidUtf8_StoredAsReadableText()
    {
        await using var run = await TwoRankJob.StartAsync(server, "logs-bytes");
        byte[] raw = [.. "before"u8, 0, .. "after"u8, 0xFF, 0xFE, .. "end"u8];

        await run.A.Client.ShipLogsAsync(new LogBatch
        {
            WorkerId = run.A.Id, JobId = run.Job.Id, Attempt = run.StartA.Attempt, Rank = 0,
            Lines = { new ShippedLogLine { Time = Timestamp.FromDateTime(DateTime.UtcNow), Level = "INF", Text = ByteString.CopyFrom(raw) } },
        });
        var line = Assert.Single(await ReadAsync(new ReadLogsRequest { JobId = run.Job.Id }));

        Assert.Equal("before\u2400after\uFFFD\uFFFDend", line.Text);
    }

    [Fact]
    public async Task ShipLogs_FloodPastTheCap_KeepsHeadAndTailAndCountsTheOmittedMiddle()
    {
        await using var run = await TwoRankJob.StartAsync(server, "logs-flood");
        const int total = 57;

        // In uneven batches, so the tail window moves within and across batches.
        for (var first = 1; first <= total; first += 10)
            await ShipAsync(run.A, run.StartA, Enumerable.Range(first, Math.Min(10, total - first + 1)).Select(n => ("INF", $"line {n}", DateTime.UtcNow)).ToArray());
        var lines = await ReadAsync(new ReadLogsRequest { JobId = run.Job.Id, Rank = 0 });
        var rows = await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM job_log_lines WHERE job_id = '{run.Job.Id}'");
        var received = await fixture.Database.ScalarAsync<long>($"SELECT received FROM job_log_streams WHERE job_id = '{run.Job.Id}'");

        Assert.Equal(Head + Tail, rows);
        Assert.Equal(total, received);
        Assert.Equal(Enumerable.Range(1, Head).Concat(Enumerable.Range(total - Tail + 1, Tail)).Select(n => $"line {n}"), lines.Select(l => l.Text));
        Assert.Equal(total - Head - Tail, lines[Head].OmittedBefore);
        Assert.Equal(0, lines.Where((_, i) => i != Head).Sum(l => l.OmittedBefore));
    }

    [Fact]
    public async Task Read_UnknownJobAttemptOrRank_NotFoundNamingIt()
    {
        await using var run = await TwoRankJob.StartAsync(server, "logs-unknown");
        var missingJob = Guid.NewGuid().ToString();

        var job = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(new ReadLogsRequest { JobId = missingJob }));
        var attempt = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(new ReadLogsRequest { JobId = run.Job.Id, Attempt = 7 }));
        var rank = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(new ReadLogsRequest { JobId = run.Job.Id, Rank = 5 }));

        Assert.All(new[] { job, attempt, rank }, e => Assert.Equal(StatusCode.NotFound, e.StatusCode));
        Assert.Contains($"job {missingJob}", job.Status.Detail);
        Assert.Contains("no attempt 7", attempt.Status.Detail);
        Assert.Contains("no rank 5", rank.Status.Detail);
    }

    [Fact]
    public async Task Read_Follow_StreamsLinesShippedLaterAndEndsAfterTheJobFails()
    {
        await using var run = await TwoRankJob.StartAsync(server, "logs-follow");
        await ShipAsync(run.A, run.StartA, ("INF", "before following", DateTime.UtcNow));
        using var call = new SpectralDiffusion.Shared.Contracts.V1.Logs.LogsClient(server.AsReader)
            .Read(new ReadLogsRequest { JobId = run.Job.Id, Follow = true });
        var stream = call.ResponseStream;
        Assert.True(await stream.MoveNext());
        var first = stream.Current.Text;

        await ShipAsync(run.B, run.StartB, ("ERR", "boom on rank 1", DateTime.UtcNow));
        Assert.True(await stream.MoveNext());
        var second = stream.Current;
        await run.B.CompleteAsync(run.StartB, succeeded: false, error: "boom", failure: FailureKind.Permanent);
        var rest = new List<LogLine>();
        while (await stream.MoveNext()) rest.Add(stream.Current);

        Assert.Equal("before following", first);
        Assert.Equal(("boom on rank 1", 1), (second.Text, second.Rank));
        Assert.Empty(rest);
    }

    [PythonGrpcFact]
    public async Task PythonClientLogs_RankWithOmittedMiddle_PrintsAsTheCliDoesAndNotFoundNamesTheRank()
    {
        await using var run = await TwoRankJob.StartAsync(server, "logs-python");
        await ShipAsync(run.A, run.StartA, Enumerable.Range(1, 10).Select(n => ("INF", $"step {n}", new DateTime(2026, 12, 7, 8, 9, 10, DateTimeKind.Utc))).ToArray());
        await ShipAsync(run.B, run.StartB, ("ERR", "other rank", DateTime.UtcNow));

        var printed = await PythonClient.RunAsync(server.Address, OrchestratorServer.ReadKey, "logs", run.Job.Id, "--rank", "0");
        var unknown = await PythonClient.RunAsync(server.Address, OrchestratorServer.ReadKey, "logs", run.Job.Id, "--rank", "9");

        Assert.True(printed.ExitCode == 0, $"exit {printed.ExitCode}\n{printed.Output}\n{printed.Error}");
        var lines = printed.Output.TrimEnd('\n').Split('\n');
        Assert.Equal(Head + 1 + Tail, lines.Length);
        Assert.Equal("[attempt 1 rank 0] 08:09:10.000 INF step 1", lines[0]);
        Assert.Contains($"… {10 - Head - Tail} lines omitted", lines[Head]);
        Assert.EndsWith("INF step 10", lines[^1]);
        Assert.DoesNotContain("other rank", printed.Output);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("NOT_FOUND", unknown.Error);
        Assert.Contains("no rank 9", unknown.Error);
    }

    Task ShipAsync(FakeWorker worker, AssignmentStart start, params (string Level, string Text, DateTime Time)[] lines) =>
        worker.Client.ShipLogsAsync(new LogBatch
        {
            WorkerId = worker.Id, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank,
            Lines = { lines.Select(l => new ShippedLogLine { Level = l.Level, Text = ByteString.CopyFromUtf8(l.Text), Time = Timestamp.FromDateTime(l.Time) }) },
        }).ResponseAsync;

    async Task<List<LogLine>> ReadAsync(ReadLogsRequest request)
    {
        using var call = new SpectralDiffusion.Shared.Contracts.V1.Logs.LogsClient(server.AsReader).Read(request);
        return await call.ResponseStream.ReadAllAsync().ToListAsync();
    }
}
