using System.Net.Sockets;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// Whether a rank's failure could pass if the attempt ran again, from the exception the engine threw. Permanent: the spec
/// or its inputs are wrong (an argument the engine refuses, weights that are corrupt or of another architecture, a
/// teacher the student cannot align to, a checkpoint that cannot be read, a file that does not exist or cannot be
/// read). Transient: everything else, notably lost peers, the network and a diverged step that a resume may pass.
/// The outermost exception of a known kind decides; wrappers of no known kind are looked through.
/// </summary>
public static class FailureClassifier
{
    public static FailureKind Classify(Exception error)
    {
        for (Exception? e = error; e is not null; e = e is AggregateException aggregate ? aggregate.InnerExceptions.FirstOrDefault() : e.InnerException)
            if (Known(e) is { } kind) return kind;
        return FailureKind.Transient;
    }

    static FailureKind? Known(Exception e) => e switch
    {
        TrainingDivergedException or CollectiveException or RpcException or SocketException or TimeoutException
            or OperationCanceledException or HttpRequestException => FailureKind.Transient,
        CheckpointFormatException or StateDictMismatchException or NonFiniteWeightsException or InvalidDataException or ArgumentException
            or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException => FailureKind.Permanent,
        IOException => FailureKind.Transient,
        _ => null,
    };
}
