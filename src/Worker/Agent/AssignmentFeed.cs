using System.Runtime.CompilerServices;
using Grpc.Core;
using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;
using static SpectralDiffusion.Worker.Agent.LifecycleEvent;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// Reads the orchestrator's orders from the assignment stream and posts them to the attempt lifecycle; reopens the
/// stream when it breaks or ends. NOT_FOUND (the orchestrator no longer knows this worker) and refused credentials end
/// the registration's session; INTERNAL and UNKNOWN are repeated within <see cref="UnexpectedErrors"/>, UNAVAILABLE (an
/// outage) as long as it lasts.
/// </summary>
public sealed class AssignmentFeed(
    Func<CancellationToken, IAsyncEnumerable<Assignment>> open,
    Action<LifecycleEvent> post,
    Action<Exception?> lose,
    UnexpectedErrors errors,
    TimeProvider time,
    ILogger log,
    string workerId)
{
    public static readonly TimeSpan DefaultReconnectDelay = TimeSpan.FromSeconds(1);
    /// <summary>A stream that was open this long before it broke had worked: its error is a lost connection, not a failing orchestrator.</summary>
    public static readonly TimeSpan ServedLongEnough = TimeSpan.FromSeconds(10);

    public TimeSpan ReconnectDelay { get; init; } = DefaultReconnectDelay;

    /// <summary>The orders of the orchestrator's <c>Assignments</c> stream for this worker.</summary>
    public static async IAsyncEnumerable<Assignment> Stream(Workers.WorkersClient client, string workerId, [EnumeratorCancellation] CancellationToken cancellation)
    {
        using var call = client.Assignments(new AssignmentsRequest { WorkerId = workerId }, cancellationToken: cancellation);
        await foreach (var assignment in call.ResponseStream.ReadAllAsync(cancellation)) yield return assignment;
    }

    /// <summary>Reads until <paramref name="session"/> is cancelled or the session is lost.</summary>
    public async Task RunAsync(CancellationToken session)
    {
        try
        {
            while (!session.IsCancellationRequested)
            {
                var opened = time.GetTimestamp();
                try
                {
                    await foreach (var assignment in open(session).WithCancellation(session))
                    {
                        errors.Succeeded();
                        if (assignment.KindCase == Assignment.KindOneofCase.Start) post(new StartOrdered(assignment.Start));
                        else if (assignment.KindCase == Assignment.KindOneofCase.Abort) post(new AbortOrdered(assignment.Abort));
                    }
                }
                catch (RpcException e) when (!session.IsCancellationRequested)
                {
                    if (time.GetElapsedTime(opened) >= ServedLongEnough) errors.Succeeded();
                    if (errors.EndsSession(e, out var failure))
                    {
                        if (failure is null) log.Warning("The orchestrator no longer knows worker {WorkerId}; registering again", workerId);
                        lose(failure);
                        return;
                    }
                    log.Warning("Assignment stream broke ({Status}); reconnecting", e.Status.Detail);
                    await Task.Delay(ReconnectDelay, time, session);
                }
            }
        }
        catch (OperationCanceledException) when (session.IsCancellationRequested) { }
        catch (RpcException) when (session.IsCancellationRequested) { }
    }
}
