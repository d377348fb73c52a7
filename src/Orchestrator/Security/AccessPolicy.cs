namespace SpectralDiffusion.Orchestrator.Security;

/// <summary>
/// Which credential each gRPC method needs. Health and reflection are open; unknown spectral methods need submit.
/// Workers register with the registration token; everything else a worker calls acts as one worker and also needs that
/// worker's own credential (a download, for one, is limited to what the worker's current attempt names). Users read a
/// job's artifacts with a read key.
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
            ("Workers", "Register") => Credential.WorkerToken,
            ("Workers", _) or ("Rendezvous", _) => Credential.WorkerIdentity,
            ("Jobs", "Get" or "List" or "Watch") or ("RunHistory", _) => Credential.ReadKey,
            ("Sweeps", "Get" or "List" or "Report") => Credential.ReadKey,
            ("JobArtifacts", "List" or "Download") => Credential.ReadKey,
            ("Logs", "Read") => Credential.ReadKey,
            _ => Credential.SubmitKey,
        };
    }
}

/// <summary>WorkerIdentity: the registration token and the calling worker's own credential (id and registration secret).</summary>
public enum Credential { None, WorkerToken, WorkerIdentity, ReadKey, SubmitKey }
