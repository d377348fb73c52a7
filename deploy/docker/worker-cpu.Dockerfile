# A CPU worker agent (TorchSharp + libtorch-cpu). Build from the repository root:
#   docker build -f deploy/docker/worker-cpu.Dockerfile -t spectral/worker-cpu .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Worker/Worker.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
# fontconfig and a font so evaluation plots have labels.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fontconfig fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV SD_WORKER_DEVICE=cpu \
    SD_WORKER_DIR=/var/lib/spectral/worker
VOLUME /var/lib/spectral/worker
ENTRYPOINT ["dotnet", "worker.dll"]
CMD ["agent"]
