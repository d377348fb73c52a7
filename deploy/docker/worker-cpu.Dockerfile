# A CPU worker agent (TorchSharp + libtorch-cpu), published self-contained. Build from the repository root:
#   docker build -f deploy/docker/worker-cpu.Dockerfile -t REGISTRY/spectral/worker-cpu:TAG .
# Build arguments as in orchestrator.Dockerfile: SDK_IMAGE, BASE_IMAGE, PUBLISHED (docs/deployment.md).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${SDK_IMAGE} AS build
ARG PUBLISHED=deploy/images/not-published
WORKDIR /src
# Restore from the project files alone: libtorch is several GB of packages, downloaded once per change of a project file.
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY src/Shared/Shared.csproj src/Shared/
COPY src/Worker/Worker.csproj src/Worker/
RUN [ "$PUBLISHED" != deploy/images/not-published ] || dotnet restore src/Worker/Worker.csproj -r linux-x64
COPY proto proto
COPY src/Shared src/Shared
COPY src/Worker src/Worker
# The prebuilt output when PUBLISHED names a folder; otherwise /app is a placeholder file, replaced by the publish.
COPY ${PUBLISHED} /app
RUN if [ -d /app ]; then echo "prebuilt: $PUBLISHED"; \
    else rm /app && dotnet publish src/Worker/Worker.csproj -c Release -r linux-x64 --self-contained --no-restore -o /app; fi

FROM ${BASE_IMAGE}
# fontconfig and a font so evaluation plots have labels; libgomp for libtorch's OpenMP; TLS roots. Skipped when the
# base image has them already (deploy/images/base-image.sh).
RUN command -v fc-cache >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/libgomp.so.1 ] && [ -d /etc/ssl/certs ] \
 || { apt-get update && apt-get install -y --no-install-recommends ca-certificates fontconfig fonts-dejavu-core libgomp1 \
      && rm -rf /var/lib/apt/lists/*; }
RUN useradd --uid 10001 --user-group --no-log-init --home-dir /var/lib/spectral --create-home spectral \
 && mkdir -p /var/lib/spectral/worker /data && chown spectral:spectral /var/lib/spectral/worker /data
WORKDIR /app
COPY --from=build /app .
ENV SD_WORKER_DEVICE=cpu \
    SD_WORKER_DIR=/var/lib/spectral/worker \
    SD_DATA_ROOT=/data \
    DOTNET_gcServer=0
VOLUME /var/lib/spectral/worker
USER 10001
# The agent touches this file on every successful heartbeat.
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
  CMD ["sh", "-c", "test $(( $(date +%s) - $(stat -c %Y /var/lib/spectral/worker/alive) )) -lt 60"]
# SIGTERM: the agent finishes its training step (up to 2 minutes), reports, deregisters and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/worker"]
CMD ["agent"]
