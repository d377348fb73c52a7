using Grpc.Core;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// Counts the INTERNAL and UNKNOWN answers one of the agent's calls to the orchestrator (Register, the assignment
/// stream, the heartbeat) gets in a row. They are not an outage (that is UNAVAILABLE, waited out as long as it lasts)
/// but an orchestrator that fails: the call is repeated <see cref="AgentOptions.UnexpectedErrorRetries"/> times, then
/// the agent stops with <see cref="Exhausted"/>, which names the call, the status and how often it came.
/// </summary>
public sealed class UnexpectedErrors(string call, string orchestrator, int retries)
{
    int inARow;
    RpcException? last;

    public static bool Counts(RpcException e) => e.StatusCode is StatusCode.Internal or StatusCode.Unknown;

    /// <summary>Counts <paramref name="e"/>; true while the call may be repeated.</summary>
    public bool TryRetry(RpcException e)
    {
        last = e;
        return ++inARow <= retries;
    }

    /// <summary>
    /// Whether an error of a session call (the assignment stream, the heartbeat) ends the registration's session: NOT_FOUND
    /// (the orchestrator no longer knows this worker: register again, <paramref name="failure"/> null), refused credentials,
    /// or INTERNAL and UNKNOWN beyond the retries (<paramref name="failure"/> says why the agent stops). Anything else is repeated.
    /// </summary>
    public bool EndsSession(RpcException e, out Exception? failure)
    {
        failure = e.StatusCode == StatusCode.NotFound ? null
            : OrchestratorRefusedException.Is(e) ? OrchestratorRefusedException.For(orchestrator, e)
            : Counts(e) && !TryRetry(e) ? Exhausted()
            : null;
        return e.StatusCode == StatusCode.NotFound || failure is not null;
    }

    /// <summary>The call got an answer: the count starts again.</summary>
    public void Succeeded() => inARow = 0;

    public OrchestratorFailingException Exhausted() => new(
        $"the orchestrator at {orchestrator} answered {call} with {last?.StatusCode} {inARow} times in a row " +
        $"(last: {last?.Status.Detail}). Stopping after {retries} retries (--error-retries): its log says what failed.", last);
}

/// <summary>The orchestrator kept answering one call with INTERNAL or UNKNOWN; the agent stops. The message says which call and how often.</summary>
public sealed class OrchestratorFailingException(string message, Exception? inner) : InvalidOperationException(message, inner);

/// <summary>The orchestrator refused this worker's credentials; the agent stops instead of retrying. The message says what to check.</summary>
public sealed class OrchestratorRefusedException(string message, Exception inner) : InvalidOperationException(message, inner)
{
    public static bool Is(RpcException e) => e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied;

    public static OrchestratorRefusedException For(string orchestrator, RpcException e) => new(
        $"the orchestrator at {orchestrator} refused this worker ({e.StatusCode}: {e.Status.Detail}). Check --token / SD_WORKER_TOKEN: " +
        "it must equal the orchestrator's Orchestrator:WorkerToken. Stopping: a refused credential does not become valid by waiting.", e);
}
