namespace SpectralDiffusion.Orchestrator.Security;

/// <summary>
/// Which credential each gRPC method needs. Health and reflection are open; unknown spectral methods need submit.
/// Workers register (and download artifacts) with the registration token; everything else a worker calls acts as one
/// worker and also needs that worker's own credential.
/// </summary>
public static class AccessPolicy
{
    public static Credential For(string method)
    {
        // method: "/spectral.v1.Jobs/Submit"
        var parts = method.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !parts[0].StartsWith("spectral.", StringComparison.Ordinal)) return Credential.None;
        return (Service: parts[0][(parts[0].LastIndexOf('.') + 1)..], Method: parts[1]) switch
        {
            ("Workers", "List") => Credential.ReadKey,
            ("Workers", "Register" or "DownloadArtifact") => Credential.WorkerToken,
            ("Workers", _) or ("Rendezvous", _) => Credential.WorkerIdentity,
            ("Jobs", "Get" or "List" or "Watch") or ("RunHistory", _) => Credential.ReadKey,
            ("Sweeps", "Get" or "List" or "Report") => Credential.ReadKey,
            ("Logs", "Read") => Credential.ReadKey,
            _ => Credential.SubmitKey,
        };
    }
}

/// <summary>WorkerIdentity: the registration token and the calling worker's own credential (id and registration secret).</summary>
public enum Credential { None, WorkerToken, WorkerIdentity, ReadKey, SubmitKey }
