using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Security;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// Who may read the dashboard: anyone presenting one of the orchestrator's API keys (role <c>read</c> or <c>submit</c>),
/// either in the <c>x-api-key</c> header (scripts) or through the login form, which leaves an HTTP-only session cookie
/// holding the key's SHA-256 sealed with ASP.NET Core data protection (never the key itself). A cookie stops working as
/// soon as its key is removed from the configuration. As with gRPC, a loopback-only server without keys is open. A wrong
/// key (header or form) counts against the client's address (<see cref="FailedAuthentications"/>, shared with gRPC); an
/// address out of tries gets 429 on everything but the assets and the login form itself until its window ends.
/// </summary>
public sealed class DashboardAccess(IOptionsMonitor<SecurityOptions> options, IDataProtectionProvider protection, FailedAuthentications failures)
{
    public const string CookieName = "sd-dashboard";
    readonly IDataProtector protector = protection.CreateProtector("SpectralDiffusion.Dashboard.Session.v1");

    public bool IsOpen => options.CurrentValue is { ApiKeys.Count: 0, BindsLoopbackOnly: true };

    /// <summary>Whether <paramref name="key"/> is a configured API key (any role: every role may read).</summary>
    public bool IsValidKey(string? key) =>
        !string.IsNullOrEmpty(key) && options.CurrentValue.ApiKeys.Any(k => FixedEquals(Hash(key), Hash(k.Key)));

    /// <summary>Whether <paramref name="context"/>'s address has no failed authentications left in its window.</summary>
    public bool IsBlocked(HttpContext context) => failures.IsBlocked(context.Connection.RemoteIpAddress);

    /// <summary>Counts a wrong key presented by <paramref name="context"/>'s address.</summary>
    public void RecordFailure(HttpContext context) => failures.RecordFailure(context.Connection.RemoteIpAddress);

    /// <summary>A request may read with a valid session cookie or a valid key in the header; a wrong header key is counted.</summary>
    public bool Allows(HttpContext context)
    {
        if (IsOpen || HasValidCookie(context)) return true;
        if (context.Request.Headers[AuthInterceptor.ApiKeyHeader].FirstOrDefault() is not { } key) return false;
        if (IsValidKey(key)) return true;
        RecordFailure(context);
        return false;
    }

    /// <summary>Starts a session for a key already checked with <see cref="IsValidKey"/>.</summary>
    public void SignIn(HttpContext context, string key) =>
        context.Response.Cookies.Append(CookieName, protector.Protect(Convert.ToHexStringLower(Hash(key))), new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Path = DashboardSetup.PathBase, Secure = context.Request.IsHttps, IsEssential = true,
            MaxAge = TimeSpan.FromHours(12),
        });

    public void SignOut(HttpContext context) => context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = DashboardSetup.PathBase });

    bool HasValidCookie(HttpContext context)
    {
        if (context.Request.Cookies[CookieName] is not { Length: > 0 } sealedHash) return false;
        byte[] hash;
        try { hash = Convert.FromHexString(protector.Unprotect(sealedHash)); }
        catch (Exception e) when (e is CryptographicException or FormatException) { return false; }
        return options.CurrentValue.ApiKeys.Any(k => FixedEquals(hash, Hash(k.Key)));
    }

    static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    static bool FixedEquals(byte[] a, byte[] b) => CryptographicOperations.FixedTimeEquals(a, b);
}
