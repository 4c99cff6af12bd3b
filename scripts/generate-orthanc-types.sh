#!/usr/bin/env bash
# Regenerates src/gateway/orthanc/orthanc-api.d.ts from the OpenAPI description that the installed
# Orthanc prints (`Orthanc --openapi=FILE`, 1.10.1 on Debian). The generated file is committed; the one
# Orthanc client module (src/gateway/orthanc/orthanc-client.ts) takes its types from it.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"${ORTHANC_BIN:-Orthanc}" --openapi="$tmp/orthanc-openapi.json"
npx openapi-typescript "$tmp/orthanc-openapi.json" -o src/gateway/orthanc/orthanc-api.d.ts
npx prettier --write src/gateway/orthanc/orthanc-api.d.ts >/dev/null
echo "wrote src/gateway/orthanc/orthanc-api.d.ts ($(Orthanc --version | head -1))"
