using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Security;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// Who may read the dashboard: anyone presenting one of the orchestrator's API keys (role <c>read</c> or <c>submit</c>),
/// either in the <c>x-api-key</c> header (scripts) or through the login form, which starts a server-side session
/// (<see cref="DashboardSessions"/>, in PostgreSQL) and leaves an HTTP-only, SameSite=Strict cookie holding the session's
/// random id (never the key). The cookie is Secure whenever the request is HTTPS, as a trusted proxy may say
/// (<see cref="DashboardSetup"/>). A cookie stops working at sign-out, after 12 hours, or as soon as its key is removed
/// from the configuration. As with gRPC, a loopback-only server without keys is open. A wrong
/// key (header or form) counts against the client's address (<see cref="FailedAuthentications"/>, shared with gRPC); an
/// address out of tries gets 429 on everything but the assets and the login form itself until its window ends.
/// </summary>
public sealed class DashboardAccess(IOptionsMonitor<SecurityOptions> options, FailedAuthentications failures, DashboardSessions sessions)
{
    public const string CookieName = "sd-dashboard";

    public bool IsOpen => options.CurrentValue is { ApiKeys.Count: 0, BindsLoopbackOnly: true };

    /// <summary>Whether <paramref name="key"/> is a configured API key (any role: every role may read).</summary>
    public bool IsValidKey(string? key) =>
        !string.IsNullOrEmpty(key) && options.CurrentValue.ApiKeys.Any(k => FixedEquals(Hash(key), Hash(k.Key)));

    /// <summary>Whether <paramref name="context"/>'s address has no failed authentications left in its window.</summary>
    public bool IsBlocked(HttpContext context) => failures.IsBlocked(context.Connection.RemoteIpAddress);

    /// <summary>Counts a wrong key presented by <paramref name="context"/>'s address.</summary>
    public void RecordFailure(HttpContext context) => failures.RecordFailure(context.Connection.RemoteIpAddress);

    /// <summary>A request may read with a valid session cookie or a valid key in the header; a wrong header key is counted.</summary>
    public async Task<bool> AllowsAsync(HttpContext context)
    {
        if (IsOpen || await HasValidCookieAsync(context)) return true;
        if (context.Request.Headers[AuthInterceptor.ApiKeyHeader].FirstOrDefault() is not { } key) return false;
        if (IsValidKey(key)) return true;
        RecordFailure(context);
        return false;
    }

    /// <summary>Starts a session for a key already checked with <see cref="IsValidKey"/>.</summary>
    public async Task SignInAsync(HttpContext context, string key) =>
        context.Response.Cookies.Append(CookieName, await sessions.StartAsync(Hash(key), context.RequestAborted),
            CookieOptions(context, DashboardSessions.Lifetime));

    /// <summary>Ends the session on the server (a copy of the cookie is refused from now on) and deletes the cookie.</summary>
    public async Task SignOutAsync(HttpContext context)
    {
        if (SessionId(context) is { } id) await sessions.EndAsync(id, context.RequestAborted);
        context.Response.Cookies.Delete(CookieName, CookieOptions(context, maxAge: null));
    }

    static CookieOptions CookieOptions(HttpContext context, TimeSpan? maxAge) => new()
    {
        HttpOnly = true, SameSite = SameSiteMode.Strict, Path = DashboardSetup.PathBase, Secure = context.Request.IsHttps, IsEssential = true,
        MaxAge = maxAge,
    };

    async Task<bool> HasValidCookieAsync(HttpContext context) =>
        SessionId(context) is { } id && await sessions.KeyHashAsync(id, context.RequestAborted) is { } hash
        && options.CurrentValue.ApiKeys.Any(k => FixedEquals(hash, Hash(k.Key)));

    /// <summary>The session id in the request's cookie, or null when there is none or it is not shaped like one (64 hex digits).</summary>
    static string? SessionId(HttpContext context) =>
        context.Request.Cookies[CookieName] is { Length: 64 } id && id.All(char.IsAsciiHexDigitLower) ? id : null;

    static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    static bool FixedEquals(byte[] a, byte[] b) => CryptographicOperations.FixedTimeEquals(a, b);
}
