# netobserv-backend container image.
#   docker build -t netobserv-grafana-backend:latest .
# The image has no PostgreSQL server: give it one with NETOBSERV_DATABASE (deploy/ does).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Build settings and project files first, so the package restore stays cached while only
# sources change; then the sources (.dockerignore keeps tests, benchmarks, deployment files
# and build output out of the context).
COPY global.json Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig ./
COPY src/Directory.Build.props src/
COPY src/NetObserv.Flows/NetObserv.Flows.csproj src/NetObserv.Flows/
COPY src/NetObserv.Storage/NetObserv.Storage.csproj src/NetObserv.Storage/
COPY src/NetObserv.Query/NetObserv.Query.csproj src/NetObserv.Query/
COPY src/NetObserv.Server/NetObserv.Server.csproj src/NetObserv.Server/
RUN dotnet restore src/NetObserv.Server/NetObserv.Server.csproj
COPY . .
RUN dotnet publish src/NetObserv.Server/NetObserv.Server.csproj \
        --configuration Release \
        --output /app \
        -p:UseAppHost=true \
    && test -x /app/netobserv-backend
# The Grafana plugin netobserv-flows-datasource for this image's architecture: Grafana's pod copies
# it into its plugins folder with an init container running this image (deploy/grafana).
ARG TARGETARCH
RUN NETOBSERV_PLUGIN_ARCHES="${TARGETARCH:-amd64}" bash deploy/grafana-plugin/build.sh /plugin

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# Spill journal and other local state; deploy/ mounts a volume here.
RUN mkdir -p /var/lib/netobserv && chown "$APP_UID:$APP_UID" /var/lib/netobserv
COPY --from=build /app ./
COPY --from=build /plugin/netobserv-flows-datasource /opt/netobserv/grafana-plugin/netobserv-flows-datasource
ENV NETOBSERV_DATA_DIR=/var/lib/netobserv
# The images' unprivileged account (UID 1654).
USER $APP_UID
# gRPC ingest (pbflow), NetFlow v9, IPFIX, HTTP (Loki API, push, /metrics, /healthz, /ready),
# gRPC query API (the Grafana plugin's backend).
EXPOSE 2055/tcp 2055/udp 4739/udp 3100/tcp 9090/tcp
ENTRYPOINT ["/app/netobserv-backend"]
CMD ["serve"]
