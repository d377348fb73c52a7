using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// The agent's heartbeats: over one long-lived <c>KeepAlive</c> stream (one small message each way per beat, instead of a
/// whole call), reopened on the next beat after it breaks. Against an orchestrator without <c>KeepAlive</c>
/// (UNIMPLEMENTED) it falls back to unary <c>Heartbeat</c> for good.
/// A beat that gets no answer within <paramref name="beatTimeout"/> abandons the stream (a connection to a killed
/// orchestrator can swallow writes without failing them), so the next beat opens a fresh one. Errors surface as the
/// unary call's would: the server's status (NOT_FOUND when the worker is gone, the refusals), and UNAVAILABLE for a
/// broken, ended or silent stream. <paramref name="headers"/> go with every call, for a client whose channel does not add
/// the worker's credential itself.
/// </summary>
public sealed class HeartbeatStream(Workers.WorkersClient client, string workerId, TimeSpan beatTimeout, Metadata? headers = null) : IDisposable
{
    AsyncDuplexStreamingCall<HeartbeatRequest, HeartbeatResponse>? call;
    bool unary;

    /// <summary>True after the orchestrator answered UNIMPLEMENTED to <c>KeepAlive</c>.</summary>
    public bool UsesUnary => unary;

    /// <summary>Renews the lease once; returns when it expires now.</summary>
    public async Task<DateTime> BeatAsync(CancellationToken cancellation)
    {
        var request = new HeartbeatRequest { WorkerId = workerId };
        if (unary)
            return (await client.HeartbeatAsync(request, headers, DateTime.UtcNow + beatTimeout, cancellation)).LeaseExpiresAt.ToDateTime();
        using var silent = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        silent.CancelAfter(beatTimeout);
        try
        {
            call ??= client.KeepAlive(headers, cancellationToken: CancellationToken.None);
            await call.RequestStream.WriteAsync(request, silent.Token);
            if (!await call.ResponseStream.MoveNext(silent.Token))
            {
                // The server ended the stream: its status says why; a clean end (a shutdown) counts as unreachable.
                var status = call.GetStatus();
                throw new RpcException(status.StatusCode == StatusCode.OK
                    ? new Status(StatusCode.Unavailable, "the orchestrator ended the heartbeat stream") : status);
            }
            return call.ResponseStream.Current.LeaseExpiresAt.ToDateTime();
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            Close();
            switch (e)
            {
                case RpcException { StatusCode: StatusCode.Unimplemented }:
                    unary = true;
                    return await BeatAsync(cancellation);
                case RpcException { StatusCode: not (StatusCode.Cancelled or StatusCode.Unknown or StatusCode.Internal) } status:
                    throw status.StatusCode == StatusCode.OK ? Unavailable("the heartbeat stream ended", e) : status;
                default:
                    throw Unavailable(silent.IsCancellationRequested ? $"no answer on the heartbeat stream within {beatTimeout.TotalSeconds:0.#} s"
                        : $"the heartbeat stream broke: {e.Message}", e);
            }
        }
        catch
        {
            Close();
            throw;
        }
    }

    static RpcException Unavailable(string message, Exception inner) => new(new Status(StatusCode.Unavailable, message, inner));

    void Close()
    {
        call?.Dispose();
        call = null;
    }

    public void Dispose() => Close();
}
