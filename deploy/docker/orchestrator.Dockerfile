# The gRPC orchestrator. Build from the repository root:
#   docker build -f deploy/docker/orchestrator.Dockerfile -t spectral/orchestrator .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Orchestrator/Orchestrator.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV Orchestrator__Host=0.0.0.0 \
    Orchestrator__Port=5080 \
    Orchestrator__ArtifactRoot=/var/lib/spectral/artifacts
VOLUME /var/lib/spectral/artifacts
EXPOSE 5080 5081
ENTRYPOINT ["dotnet", "orchestrator.dll"]
CMD ["serve"]
