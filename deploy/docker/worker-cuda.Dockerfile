# A GPU worker agent: TorchSharp-cuda-linux (-p:TorchBackend=cuda) and NCCL for all-reduce.
# Needs the NVIDIA container toolkit on the node. Build from the repository root:
#   docker build -f deploy/docker/worker-cuda.Dockerfile -t spectral/worker-cuda .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Worker/Worker.csproj -c Release -p:TorchBackend=cuda -o /app

FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04
# libnccl2 comes from NVIDIA's CUDA apt repository, which this base image already configures.
RUN apt-get update \
 && apt-get install -y --no-install-recommends dotnet-runtime-10.0 libnccl2 fontconfig fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV SD_WORKER_DEVICE=cuda \
    SD_WORKER_DIR=/var/lib/spectral/worker
VOLUME /var/lib/spectral/worker
ENTRYPOINT ["dotnet", "worker.dll"]
CMD ["agent"]
