# A GPU worker agent: TorchSharp-cuda-linux (-p:TorchBackend=cuda, which brings libtorch with its CUDA libraries) and
# NCCL (libnccl.so.2, which the nccl collective binds) for all-reduce. The node needs the NVIDIA driver and the NVIDIA
# container toolkit; the image needs no CUDA toolkit. Build from the repository root, where NuGet serves the CUDA
# TorchSharp packages (several GB):
#   docker build -f deploy/docker/worker-cuda.Dockerfile -t REGISTRY/spectral/worker-cuda:TAG .
# Build arguments: SDK_IMAGE, BASE_IMAGE (an image with NVIDIA's CUDA apt repository, for libnccl2), PUBLISHED (a
# folder with `dotnet publish -p:TorchBackend=cuda -r linux-x64 --self-contained` output made beforehand).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG BASE_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04

FROM ${SDK_IMAGE} AS build
ARG PUBLISHED=deploy/images/not-published
WORKDIR /src
# Restore from the project files alone: the CUDA libtorch packages are downloaded once per change of a project file.
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY src/Shared/Shared.csproj src/Shared/
COPY src/Worker/Worker.csproj src/Worker/
RUN [ "$PUBLISHED" != deploy/images/not-published ] || dotnet restore src/Worker/Worker.csproj -r linux-x64 -p:TorchBackend=cuda
COPY proto proto
COPY src/Shared src/Shared
COPY src/Worker src/Worker
# The prebuilt output when PUBLISHED names a folder; otherwise /app is a placeholder file, replaced by the publish.
COPY ${PUBLISHED} /app
RUN if [ -d /app ]; then echo "prebuilt: $PUBLISHED"; \
    else rm /app && dotnet publish src/Worker/Worker.csproj -c Release -r linux-x64 --self-contained -p:TorchBackend=cuda --no-restore -o /app; fi

FROM ${BASE_IMAGE}
# libnccl2 comes from NVIDIA's CUDA apt repository, which the nvidia/cuda images configure; fontconfig and a font for
# the evaluation plots; libgomp for libtorch's OpenMP.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libnccl2 fontconfig fonts-dejavu-core libgomp1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 10001 --user-group --no-log-init --home-dir /var/lib/spectral --create-home spectral \
 && mkdir -p /var/lib/spectral/worker /data && chown spectral:spectral /var/lib/spectral/worker /data
WORKDIR /app
COPY --from=build /app .
# NCCL_SOCKET_IFNAME: the interface NCCL's bootstrap and socket transport use (set it to the pod's or host's network
# interface); NCCL_DEBUG=INFO prints the chosen transports when a job is slow or hangs.
ENV SD_WORKER_DEVICE=cuda \
    SD_WORKER_DIR=/var/lib/spectral/worker \
    SD_DATA_ROOT=/data \
    NCCL_DEBUG=WARN \
    DOTNET_gcServer=0
VOLUME /var/lib/spectral/worker
USER 10001
# The agent touches this file on every successful heartbeat.
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
  CMD ["sh", "-c", "test $(( $(date +%s) - $(stat -c %Y /var/lib/spectral/worker/alive) )) -lt 120"]
# SIGTERM: the agent finishes its training step (up to 2 minutes), reports, deregisters and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/worker"]
CMD ["agent"]
