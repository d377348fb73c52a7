using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// A job's artifacts (model, checkpoints whole or by shard, files) as downloads under the signed-in session:
/// <c>/ui/artifacts/JOB/NAME</c>, always an attachment of type application/octet-stream, streamed chunk by chunk with its
/// length and SHA-256 (<c>X-Artifact-Sha256</c>) in the headers. The name is only looked up in <see cref="JobArtifactCatalog"/>.
/// </summary>
public static class DashboardArtifacts
{
    public const string Sha256Header = "X-Artifact-Sha256";

    public static string Url(Guid job, string name) =>
        $"{DashboardSetup.PathBase}/artifacts/{job}/{string.Join('/', name.Split('/').Select(Uri.EscapeDataString))}";

    public static async Task ServeAsync(HttpContext context, Guid jobId, string name, JobArtifactCatalog catalog, CancellationToken cancellation)
    {
        JobArtifactDownload download;
        try { download = await catalog.OpenAsync(jobId, name, cancellation); }
        catch (OrchestratorException e) when (e.Kind is OrchestratorErrorKind.NotFound or OrchestratorErrorKind.InvalidArgument)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync(e.Message, cancellation);
            return;
        }
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = download.Entry.Size;
        context.Response.Headers.ContentDisposition = new System.Net.Mime.ContentDisposition
        {
            DispositionType = "attachment", FileName = JobArtifactCatalog.FileNameOf(download.Entry.Name),
        }.ToString();
        context.Response.Headers[Sha256Header] = download.Entry.Sha256;
        await foreach (var chunk in download.Content.ChunksAsync(ArtifactStore.ChunkBytes, cancellation))
            await context.Response.Body.WriteAsync(chunk, cancellation);
    }
}
