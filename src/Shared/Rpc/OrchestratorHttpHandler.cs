namespace SpectralDiffusion.Shared.Rpc;

/// <summary>
/// The HTTP/2 handler of the .NET clients' channels to the orchestrator (the CLI and the worker agent). It differs from
/// the one a channel makes for itself in one setting: each stream's receive window starts at
/// <see cref="StreamWindowBytes"/> instead of 64 KiB. .NET grows a stream's window from the round-trip time it measures,
/// and on loopback or a LAN that time is so short that the window stays small: a download then waits for the client's
/// WINDOW_UPDATE every few tens of KiB. The window also bounds what one call can have received and not yet read.
/// </summary>
public static class OrchestratorHttpHandler
{
    public const int StreamWindowBytes = 4 << 20;

    public static SocketsHttpHandler Create() => new()
    {
        // As the channel's own handler: more than one connection when a connection's stream limit is reached.
        EnableMultipleHttp2Connections = true,
        InitialHttp2StreamWindowSize = StreamWindowBytes,
    };
}
