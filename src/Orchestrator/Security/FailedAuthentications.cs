using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace SpectralDiffusion.Orchestrator.Security;

/// <summary>
/// Failed authentications per client address, on gRPC and the dashboard together: a fixed window per address
/// (<see cref="SecurityOptions.FailedAuthenticationLimit"/> failures per <see cref="SecurityOptions.FailedAuthenticationWindow"/>)
/// that only failures consume. Once an address has used them all, every call from it that needs a credential is refused,
/// even with the right one, until its window ends. A guesser gets a handful of tries a minute; a client that
/// authenticates never touches its allowance.
/// </summary>
public sealed class FailedAuthentications : IDisposable
{
    public const string RefusedMessage = "too many failed authentications from this address; try again later";

    readonly PartitionedRateLimiter<IPAddress> limiter;

    public FailedAuthentications(IOptions<SecurityOptions> options)
    {
        var settings = options.Value;
        limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = settings.FailedAuthenticationLimit, Window = settings.FailedAuthenticationWindow, QueueLimit = 0, AutoReplenishment = true,
            }));
    }

    /// <summary>Whether <paramref name="client"/> has no failures left in its current window.</summary>
    public bool IsBlocked(IPAddress? client)
    {
        using var lease = limiter.AttemptAcquire(Key(client), permitCount: 0);
        return !lease.IsAcquired;
    }

    /// <summary>Counts one failed authentication against <paramref name="client"/>.</summary>
    public void RecordFailure(IPAddress? client) => limiter.AttemptAcquire(Key(client)).Dispose();

    /// <summary>An IPv4 client seen through a dual-stack socket counts as the same address as over IPv4.</summary>
    static IPAddress Key(IPAddress? client) => client is null ? IPAddress.None : client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;

    public void Dispose() => limiter.Dispose();
}
