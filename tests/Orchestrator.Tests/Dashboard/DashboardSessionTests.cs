using System.Net;
using System.Text.RegularExpressions;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>A dashboard server that believes X-Forwarded-Proto from 127.0.0.1, as behind a TLS-terminating proxy on this host.</summary>
public sealed class ProxiedDashboardFixture : ServerFixture
{
    protected override IDictionary<string, string?> Overrides => new Dictionary<string, string?> { ["Orchestrator:TrustedProxies:0"] = "127.0.0.1" };
}

/// <summary>Dashboard sessions over real HTTP, through the login form as a browser submits it (antiforgery token included):
/// sign-out ends the session on the server, and the cookie is Secure when a trusted proxy says the request was HTTPS.</summary>
public partial class DashboardSessionTests(ProxiedDashboardFixture fixture) : IClassFixture<ProxiedDashboardFixture>
{
    [Fact]
    public async Task SignOut_CookieCopiedBefore_RedirectedToLoginAfter()
    {
        var browser = new FormBrowser(fixture.Server.DashboardAddress);
        await browser.SignInAsync(OrchestratorServer.ReadKey);
        var copied = browser.Cookie(FormBrowser.SessionCookie);
        var before = await browser.GetAsync("/ui/workers");

        var signOut = await browser.PostFormAsync("/ui/login?handler=SignOut", [], await browser.TokenAsync("/ui/workers"));
        var after = await new FormBrowser(fixture.Server.DashboardAddress, (FormBrowser.SessionCookie, copied)).GetAsync("/ui/workers");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/ui/login", after.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignIn_OrchestratorRestarted_SessionStillValidUntilSignOut()
    {
        await using var database = await TestDatabase.CreateFreshAsync();
        string cookie;
        await using (var first = await OrchestratorServer.StartAsync(database))
        {
            var browser = new FormBrowser(first.DashboardAddress);
            await browser.SignInAsync(OrchestratorServer.ReadKey);
            cookie = browser.Cookie(FormBrowser.SessionCookie);
        }

        await using var second = await OrchestratorServer.StartAsync(database);
        var returning = new FormBrowser(second.DashboardAddress, (FormBrowser.SessionCookie, cookie));
        var afterRestart = await returning.GetAsync("/ui/workers");
        var signOut = await returning.PostFormAsync("/ui/login?handler=SignOut", [], await returning.TokenAsync("/ui/workers"));
        var afterSignOut = await new FormBrowser(second.DashboardAddress, (FormBrowser.SessionCookie, cookie)).GetAsync("/ui/workers");
        var forged = await new FormBrowser(second.DashboardAddress, (FormBrowser.SessionCookie, new string('a', 64))).GetAsync("/ui/workers");

        Assert.Equal(HttpStatusCode.OK, afterRestart.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, afterSignOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, forged.StatusCode);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM dashboard_sessions"));
    }

    [Fact]
    public async Task SignIn_TrustedProxySaysHttps_CookieIsSecure()
    {
        var browser = new FormBrowser(fixture.Server.DashboardAddress) { ForwardedProto = "https" };

        var response = await browser.SignInAsync(OrchestratorServer.ReadKey);

        Assert.Contains("secure", SessionSetCookie(response), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", SessionSetCookie(response), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignIn_UntrustedAddressSaysHttps_CookieNotSecure()
    {
        await using var database = await TestDatabase.CreateFreshAsync();
        await using var server = await OrchestratorServer.StartAsync(database, new Dictionary<string, string?> { ["Orchestrator:TrustedProxies:0"] = "10.0.0.1" });
        var browser = new FormBrowser(server.DashboardAddress) { ForwardedProto = "https" };

        var response = await browser.SignInAsync(OrchestratorServer.ReadKey);

        Assert.DoesNotContain("secure", SessionSetCookie(response), StringComparison.OrdinalIgnoreCase);
    }

    static string SessionSetCookie(HttpResponseMessage response) =>
        Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(FormBrowser.SessionCookie + "=", StringComparison.Ordinal));

    /// <summary>Plain HTTP with its cookies kept by hand (so a test can copy one), redirects not followed.</summary>
    sealed partial class FormBrowser
    {
        public const string SessionCookie = "sd-dashboard";
        readonly HttpClient client;
        readonly Dictionary<string, string> cookies = new(StringComparer.Ordinal);
        public string? ForwardedProto { get; init; }

        public FormBrowser(string dashboard, params (string Name, string Value)[] cookies)
        {
            client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(dashboard) };
            foreach (var (name, value) in cookies) this.cookies[name] = value;
        }

        public string Cookie(string name) => cookies[name];

        public async Task<HttpResponseMessage> SignInAsync(string key)
        {
            var response = await PostFormAsync("/ui/login", [new("key", key), new("returnUrl", "/ui")], await TokenAsync("/ui/login"));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            return response;
        }

        /// <summary>The antiforgery token in the form on <paramref name="path"/>.</summary>
        public async Task<string> TokenAsync(string path)
        {
            var page = await (await GetAsync(path)).Content.ReadAsStringAsync();
            return TokenField().Match(page) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException($"no antiforgery token on {path}");
        }

        public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path));

        public Task<HttpResponseMessage> PostFormAsync(string path, List<KeyValuePair<string, string>> fields, string token) =>
            SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent([.. fields, new("__RequestVerificationToken", token)]) });

        async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
        {
            if (cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
            if (ForwardedProto is not null) request.Headers.Add("X-Forwarded-Proto", ForwardedProto);
            var response = await client.SendAsync(request);
            foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                var pair = header.Split(';')[0].Split('=', 2);
                if (pair[1].Length == 0) cookies.Remove(pair[0]);
                else cookies[pair[0]] = pair[1];
            }
            return response;
        }

        [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
        private static partial Regex TokenField();
    }
}
