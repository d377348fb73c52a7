namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// The headers on every dashboard response, pages, files and the login page alike. The policy allows only the dashboard's
/// own style sheet, script, images and fetches (no inline script or style, no plugins, no framing, forms post only here),
/// so content that slipped into a served file could not run on the dashboard's origin; <c>nosniff</c> stops a browser
/// from guessing a type other than the one sent.
/// </summary>
public static class DashboardHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    public static Task AddAsync(HttpContext context, RequestDelegate next)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            return Task.CompletedTask;
        });
        return next(context);
    }
}
