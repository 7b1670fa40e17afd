# netobserv-backend container image.
#   docker build -t netobserv-grafana-backend:latest .
# The image has no PostgreSQL server: give it one with NETOBSERV_DATABASE (deploy/ does).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Build settings and central package versions first, then the sources (.dockerignore keeps
# tests, benchmarks, deployment files and build output out of the context).
COPY global.json Directory.Build.props Directory.Packages.props BannedSymbols.txt .editorconfig ./
COPY . .
RUN dotnet publish src/NetObserv.Server/NetObserv.Server.csproj \
        --configuration Release \
        --output /app \
        -p:UseAppHost=true \
    && test -x /app/netobserv-backend

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# Spill journal and other local state; deploy/ mounts a volume here.
RUN mkdir -p /var/lib/netobserv && chown "$APP_UID:$APP_UID" /var/lib/netobserv
COPY --from=build /app ./
ENV NETOBSERV_DATA_DIR=/var/lib/netobserv \
    DOTNET_gcServer=1
# The images' unprivileged account (UID 1654).
USER $APP_UID
# gRPC ingest (pbflow), NetFlow v9, IPFIX, HTTP (Loki API, push, /metrics, /healthz, /ready).
EXPOSE 2055/tcp 2055/udp 4739/udp 3100/tcp
ENTRYPOINT ["/app/netobserv-backend"]
CMD ["serve"]
