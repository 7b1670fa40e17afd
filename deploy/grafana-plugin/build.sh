#!/usr/bin/env bash
# Assembles the Grafana plugin netobserv-flows-datasource into <outdir>/netobserv-flows-datasource/:
# plugin.json, module.js and the plugin process gpx_netobserv_flows_linux_amd64 and _linux_arm64,
# published self-contained single files (Grafana's image needs no .NET runtime).
#
# Usage (from the project root): deploy/grafana-plugin/build.sh <outdir> [--framework-dependent]
#   --framework-dependent  publishes only this machine's architecture, needing an installed .NET 10
#                          runtime: quicker, for tests and development.
# NETOBSERV_PLUGIN_ARCHES (default "amd64 arm64") picks the architectures of a self-contained build
# (the container image builds only its own).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || ( $# -eq 2 && "$2" != "--framework-dependent" ) ]]; then
  echo "usage: $0 <outdir> [--framework-dependent]" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
project="$root/src/NetObserv.GrafanaPlugin/NetObserv.GrafanaPlugin.csproj"
mkdir -p "$1"
out="$(cd "$1" && pwd)/netobserv-flows-datasource"
executable="$(sed -n 's/^ *"executable": *"\([^"]*\)".*/\1/p' "$here/plugin.json")"

rm -rf "$out"
mkdir -p "$out"
cp "$here/plugin.json" "$here/module.js" "$out/"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

publish() { # <dotnet rid> <go arch> <self-contained true|false>
  # Self-contained single files are compressed (about half the size; unpacked in memory at start).
  dotnet publish "$project" -c Release -r "$1" --self-contained "$3" -p:PublishSingleFile=true \
    -p:IncludeNativeLibrariesForSelfExtract=true -p:EnableCompressionInSingleFile="$3" -p:DebugType=none \
    -o "$work/$1" --nologo -v quiet
  cp "$work/$1/NetObserv.GrafanaPlugin" "$out/${executable}_linux_$2"
  chmod 755 "$out/${executable}_linux_$2"
}

if [[ $# -eq 2 ]]; then
  case "$(uname -m)" in
    x86_64) publish linux-x64 amd64 false ;;
    aarch64 | arm64) publish linux-arm64 arm64 false ;;
    *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
  esac
else
  for arch in ${NETOBSERV_PLUGIN_ARCHES:-amd64 arm64}; do
    case "$arch" in
      amd64) publish linux-x64 amd64 true ;;
      arm64) publish linux-arm64 arm64 true ;;
      *) echo "unknown architecture $arch in NETOBSERV_PLUGIN_ARCHES (amd64, arm64)" >&2; exit 2 ;;
    esac
  done
fi

echo "$out"
