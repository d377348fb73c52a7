using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Security;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// The read-only run-history web UI under <c>/ui</c> (Razor Pages rendered on the server, SVG charts drawn here, no
/// script library, works offline). Every <c>/ui</c> request but the login page needs an API key (<see cref="DashboardAccess"/>).
/// Files a job published are served from the artifact store by (job, name) as recorded in PostgreSQL.
/// </summary>
public static class DashboardSetup
{
    public const string PathBase = "/ui";
    public const string LoginPath = PathBase + "/login";
    /// <summary>The style sheet and the script every page loads: public (they hold nothing secret), so the login page has them too.</summary>
    public const string AssetsPath = PathBase + "/assets";
    /// <summary>Requests made by the pages' own scripts (the live job table) carry this header: refused with 401, not redirected.</summary>
    public const string FetchHeader = "x-dashboard-fetch";

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddDataProtection();
        services.AddSingleton<DashboardAccess>().AddSingleton<DashboardReader>().AddSingleton(services => new DashboardSessions(services.GetRequiredService<Database>(), TimeProvider.System));
        services.AddRazorPages(pages => pages.RootDirectory = "/Dashboard/Pages");
        return services;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        var proxies = app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value.TrustedProxies;
        app.UseWhen(context => context.Request.Path.StartsWithSegments(PathBase),
            ui => ui.UseForwardedHeaders(ForwardedFrom(proxies)).Use(DashboardHeaders.AddAsync).Use(RequireKeyAsync));
        app.MapRazorPages();
        app.MapGet(PathBase + "/files/{jobId:guid}/{name}", ServeFileAsync);
        app.MapGet(PathBase + "/artifacts/{jobId:guid}/{**name}", DashboardArtifacts.ServeAsync);
        app.MapGet(AssetsPath + "/{name}", DashboardAssets.Serve);
        app.MapGet(JobLogsEndpoint.PathTemplate, JobLogsEndpoint.ReadAsync);
        app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation("Dashboard at {Url}",
            Address(app).Replace("0.0.0.0", "localhost", StringComparison.Ordinal) + PathBase));
        return app;
    }

    /// <summary>
    /// X-Forwarded-Proto and X-Forwarded-For are believed only from <paramref name="proxies"/> (Orchestrator:TrustedProxies;
    /// none by default, not even loopback): behind a TLS-terminating proxy the request then counts as HTTPS (Secure cookies)
    /// and failed sign-ins count against the client's address rather than the proxy's.
    /// </summary>
    static ForwardedHeadersOptions ForwardedFrom(IEnumerable<string> proxies)
    {
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedFor };
        forwarded.KnownIPNetworks.Clear();
        forwarded.KnownProxies.Clear();
        foreach (var proxy in proxies) forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
        return forwarded;
    }

    /// <summary>Where the dashboard is served (its pages are under <see cref="PathBase"/>): the second address Kestrel bound, after gRPC's.</summary>
    public static string Address(WebApplication app) => app.Urls.ElementAt(1);

    /// <summary>Without a valid key nothing but the login page is served: pages redirect there, the pages' own fetches get 401.</summary>
    static async Task RequireKeyAsync(HttpContext context, RequestDelegate next)
    {
        context.Response.Headers.CacheControl = "no-store";
        var access = context.RequestServices.GetRequiredService<DashboardAccess>();
        if (context.Request.Path.StartsWithSegments(AssetsPath) || (context.Request.Path.StartsWithSegments(LoginPath) && HttpMethods.IsGet(context.Request.Method)))
        {
            await next(context);
            return;
        }
        if (access.IsBlocked(context))
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            await context.Response.WriteAsync(FailedAuthentications.RefusedMessage);
            return;
        }
        if (context.Request.Path.StartsWithSegments(LoginPath) || await access.AllowsAsync(context))
        {
            await next(context);
            return;
        }
        if (context.Request.Headers.ContainsKey(FetchHeader) || !HttpMethods.IsGet(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await context.Response.WriteAsync("a valid API key is required: sign in at " + LoginPath);
            return;
        }
        var back = context.Request.Path + context.Request.QueryString;
        context.Response.Redirect(LoginPath + "?returnUrl=" + Uri.EscapeDataString(back));
    }

    /// <summary>
    /// A file of a job: the name is checked against <see cref="JobFileName"/>, looked up in job_files, and the content
    /// opened by its recorded hash; the name never becomes a path. Only PNG is shown in place; CSV and JSON are downloaded
    /// (<c>Content-Disposition: attachment</c>), and anything recorded before upload checks existed is served as bytes to download.
    /// </summary>
    static async Task<IResult> ServeFileAsync(Guid jobId, string name, DashboardReader reader, ArtifactStore store, CancellationToken cancellation)
    {
        if (!JobFileName.IsValid(name)) return Results.NotFound($"'{Echo.Short(name)}' is not a file name ({JobFileName.Rule})");
        var file = await reader.FileAsync(jobId, name, cancellation);
        if (file is null || !ModelReference.IsSha256(file.Sha256) || !store.Exists(file.Sha256))
            return Results.NotFound($"job {jobId} has no file named {name}");
        var type = JobFileContent.MediaType(name) ?? "application/octet-stream";
        return JobFileContent.IsShownInline(name)
            ? Results.Stream(store.OpenRead(file.Sha256), type)
            : Results.Stream(store.OpenRead(file.Sha256), type, fileDownloadName: name);
    }
}
