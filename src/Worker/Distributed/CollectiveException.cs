namespace SpectralDiffusion.Worker.Distributed;

/// <summary>A collective failed (dead or mismatched peer, timeout, backend error); the group cannot be used again.</summary>
public class CollectiveException : Exception
{
    public CollectiveException(string message) : base(message) { }
    public CollectiveException(string message, Exception inner) : base(message, inner) { }
}
