using Microsoft.Net.Http.Headers;
using Npgsql;
using Polly.CircuitBreaker;
using SpectralDiffusion.Orchestrator.Monitoring;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Security;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// <c>GET /metrics</c> on the dashboard's port, in the Prometheus text format. It needs an API key, as the dashboard
/// does: <c>Authorization: Bearer KEY</c> (Prometheus' <c>authorization</c> scrape setting) or <c>x-api-key</c>; a
/// <c>read</c> key is enough. Like the dashboard, a loopback-only orchestrator without keys is open. Wrong keys count
/// against the client's address (<see cref="FailedAuthentications"/>). When PostgreSQL cannot be read the scrape fails
/// with 503 rather than showing stale gauges, and Prometheus records the target as down.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";
    const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static WebApplication MapMetrics(this WebApplication app)
    {
        app.Services.GetRequiredService<ClusterGauges>();   // registers its read with the registry before the first scrape
        app.MapGet(Path, ScrapeAsync);
        return app;
    }

    static async Task ScrapeAsync(HttpContext context, DashboardAccess access, OrchestratorMetrics metrics, ILogger<ClusterGauges> logger)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (access.IsBlocked(context))
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            await context.Response.WriteAsync(FailedAuthentications.RefusedMessage);
            return;
        }
        if (!Allows(context, access))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.Response.WriteAsync("an API key is required: Authorization: Bearer KEY");
            return;
        }
        using var text = new MemoryStream();
        try { await metrics.WriteAsync(text, context.RequestAborted); }
        catch (Exception e) when (e is BrokenCircuitException || (e is NpgsqlException && DatabaseResilience.IsTransient(e)))
        {
            logger.LogWarning("Metrics scrape refused: PostgreSQL unavailable ({Reason})", e.Message);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync("the orchestrator's database is unavailable; the gauges it holds cannot be read");
            return;
        }
        context.Response.ContentType = ContentType;
        text.Position = 0;
        await text.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>A bearer token or an x-api-key header holding a configured key; nothing when the dashboard is open.</summary>
    static bool Allows(HttpContext context, DashboardAccess access)
    {
        if (access.IsOpen) return true;
        var authorization = context.Request.Headers[HeaderNames.Authorization].FirstOrDefault() ?? "";
        var key = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim()
            : context.Request.Headers[AuthInterceptor.ApiKeyHeader].FirstOrDefault();
        if (key is null) return false;
        if (access.IsValidKey(key)) return true;
        access.RecordFailure(context);
        return false;
    }
}
