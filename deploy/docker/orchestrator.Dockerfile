# The gRPC orchestrator, published self-contained (the image needs no .NET package). Build from the repository root:
#   docker build -f deploy/docker/orchestrator.Dockerfile -t REGISTRY/spectral/orchestrator:TAG .
# Build arguments (docs/deployment.md):
#   SDK_IMAGE   the build stage (default: Microsoft's .NET SDK image)
#   BASE_IMAGE  the runtime stage: any glibc Debian/Ubuntu image with apt (deploy/images/base-image.sh makes one
#               without a registry)
#   PUBLISHED   a folder in the build context holding `dotnet publish -r linux-x64 --self-contained` output made
#               beforehand (CI publishes on the host); by default the build stage publishes
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${SDK_IMAGE} AS build
ARG PUBLISHED=deploy/images/not-published
WORKDIR /src
# Restore from the project files alone, so a source change does not download the packages again.
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY src/Shared/Shared.csproj src/Shared/
COPY src/Orchestrator/Orchestrator.csproj src/Orchestrator/
RUN [ "$PUBLISHED" != deploy/images/not-published ] || dotnet restore src/Orchestrator/Orchestrator.csproj -r linux-x64
COPY proto proto
COPY src/Shared src/Shared
COPY src/Orchestrator src/Orchestrator
# The prebuilt output when PUBLISHED names a folder; otherwise /app is a placeholder file, replaced by the publish.
COPY ${PUBLISHED} /app
RUN if [ -d /app ]; then echo "prebuilt: $PUBLISHED"; \
    else rm /app && dotnet publish src/Orchestrator/Orchestrator.csproj -c Release -r linux-x64 --self-contained --no-restore -o /app; fi

FROM ${BASE_IMAGE}
# fontconfig and a font for SkiaSharp (the dashboard's charts), TLS roots (the build uses invariant globalization: no ICU).
# Skipped when the base image has them already (deploy/images/base-image.sh).
RUN command -v fc-cache >/dev/null && [ -d /etc/ssl/certs ] \
 || { apt-get update && apt-get install -y --no-install-recommends ca-certificates fontconfig fonts-dejavu-core \
      && rm -rf /var/lib/apt/lists/*; }
RUN useradd --uid 10001 --user-group --no-log-init --home-dir /var/lib/spectral --create-home spectral \
 && mkdir -p /var/lib/spectral/artifacts /data && chown spectral:spectral /var/lib/spectral/artifacts /data
WORKDIR /app
COPY --from=build /app .
# The examples and the pipeline script, for ops commands run inside the stack (docker compose run ops ...).
COPY examples /opt/spectral/examples
COPY deploy/compose/submit-pipeline.sh /opt/spectral/bin/submit-pipeline
ENV PATH=/app:/opt/spectral/bin:$PATH \
    Orchestrator__Host=0.0.0.0 \
    Orchestrator__Port=5080 \
    Orchestrator__ArtifactRoot=/var/lib/spectral/artifacts \
    DOTNET_gcServer=0
VOLUME /var/lib/spectral/artifacts
EXPOSE 5080 5081
USER 10001
# Readiness (includes PostgreSQL); with Orchestrator:Tls on, use https:// and a certificate the image trusts.
HEALTHCHECK --interval=10s --timeout=6s --retries=6 CMD ["/app/orchestrator", "health", "--address", "http://127.0.0.1:5080"]
# serve stops within 20 s of SIGTERM (in-flight calls finish, the loops commit) and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/orchestrator"]
CMD ["serve"]
