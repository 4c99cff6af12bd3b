#!/usr/bin/env bash
# Starts Debian's Orthanc (+ DICOMweb plugin) for the gateway, in the foreground (exec: SIGTERM stops it).
#
#   orthanc/start.sh STORAGE_DIR HTTP_PORT DICOM_PORT [EXTRA_CONFIG.json ...]
#
# - HTTP and DICOM listen on the given ports; RemoteAccessAllowed=false refuses every HTTP client but
#   loopback.
# - Authentication is on. The user is $ORTHANC_USER (default "gateway"); the password is
#   $ORTHANC_PASSWORD, or else the content of STORAGE_DIR/orthanc-password (created with a random
#   value on first start). A Lua filter lets only that user write (POST/PUT/DELETE).
# - Each EXTRA_CONFIG.json is copied beside the generated configuration; Orthanc merges the files of
#   its configuration folder (top-level keys), e.g. to add DicomWeb.Servers.
# - $ORTHANC_BIN (default Orthanc) and $ORTHANC_DICOMWEB_PLUGIN override the binaries.
set -euo pipefail

if [ "$#" -lt 3 ]; then
  echo "usage: $0 STORAGE_DIR HTTP_PORT DICOM_PORT [EXTRA_CONFIG.json ...]" >&2
  exit 64
fi
here="$(cd "$(dirname "$0")" && pwd)"
storage="$1"
http_port="$2"
dicom_port="$3"
shift 3

for p in "$http_port" "$dicom_port"; do
  case "$p" in
    '' | *[!0-9]*) echo "start.sh: port [$p] is not a number" >&2; exit 64 ;;
  esac
done

orthanc_bin="${ORTHANC_BIN:-Orthanc}"
plugin="${ORTHANC_DICOMWEB_PLUGIN:-/usr/share/orthanc/plugins/libOrthancDicomWeb.so}"
# Debian installs it in /usr/sbin, which is not on every user's PATH.
if ! command -v "$orthanc_bin" >/dev/null 2>&1 && [ -x "/usr/sbin/$orthanc_bin" ]; then
  orthanc_bin="/usr/sbin/$orthanc_bin"
fi
if ! command -v "$orthanc_bin" >/dev/null 2>&1; then
  echo "start.sh: [$orthanc_bin] not found (apt-get install orthanc orthanc-dicomweb)" >&2
  exit 69
fi
if [ ! -f "$plugin" ]; then
  echo "start.sh: DICOMweb plugin [$plugin] not found (apt-get install orthanc-dicomweb)" >&2
  exit 69
fi

mkdir -p "$storage/storage" "$storage/index" "$storage/config"
storage="$(cd "$storage" && pwd)"
config_dir="$storage/config"

user="${ORTHANC_USER:-gateway}"
password="${ORTHANC_PASSWORD:-}"
if [ -z "$password" ]; then
  if [ ! -s "$storage/orthanc-password" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$storage/orthanc-password")
  fi
  password="$(cat "$storage/orthanc-password")"
fi
case "$user$password" in
  *[!A-Za-z0-9_.-]*) echo "start.sh: user and password may hold only [A-Za-z0-9_.-]" >&2; exit 64 ;;
esac

rm -f "$config_dir"/*.json
(
  umask 077
  sed -e "s|@NAME@|${ORTHANC_NAME:-stego-gateway-orthanc}|" \
    -e "s|@AET@|${ORTHANC_AET:-STEGOORTHANC}|" \
    -e "s|@STORAGE_DIR@|$storage|g" \
    -e "s|@CONFIG_DIR@|$config_dir|g" \
    -e "s|@HTTP_PORT@|$http_port|" \
    -e "s|@DICOM_PORT@|$dicom_port|" \
    -e "s|@USER@|$user|" \
    -e "s|@PASSWORD@|$password|" \
    -e "s|@PLUGIN@|$plugin|" \
    "$here/orthanc.json.template" >"$config_dir/orthanc.json"
  sed -e "s|@USER@|$user|" "$here/write-filter.lua.template" >"$config_dir/write-filter.lua"
)
i=0
for extra in "$@"; do
  i=$((i + 1))
  cp "$extra" "$config_dir/extra-$i.json"
done

mkdir -p "$storage/logs"
exec "$orthanc_bin" --logdir="$storage/logs" "$config_dir"
