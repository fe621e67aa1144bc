#!/bin/sh
# Installs what mlctl needs to build, test and run its examples on Debian 12
# (bookworm), starting from a minimal system. Installs only what is missing,
# so it is quick to run again. Works as root or through sudo.
set -eu

packages="
  build-essential cmake ninja-build pkg-config ccache lld make
  libcli11-dev libyaml-cpp-dev libfmt-dev libsqlite3-dev catch2
  libcpp-httplib-dev nlohmann-json3-dev
  libtorch-dev libopenblas0-pthread libblas-dev
  python3 procps
"

missing=""
for package in $packages; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $package" ;;
  esac
done

if [ -z "$missing" ]; then
  echo "setup: all build dependencies are installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "setup: missing packages:$missing" >&2
  echo "setup: run this script as root or install sudo" >&2
  exit 1
fi

echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $missing
