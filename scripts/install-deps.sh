#!/usr/bin/env bash
# Installs the Debian packages the project needs, and only those that are
# missing. Called by `make run`, `make test` and `make bench`; safe to run again.
#
#   scripts/install-deps.sh [build|test|bench|fuzz|soak]...
#
# Needs root (or sudo) only when something is missing.
set -euo pipefail

build=(gcc make pkg-config libmicrohttpd-dev libjson-c-dev libsqlite3-dev libpq-dev libcmark-dev libssl-dev libyaml-dev libcurl4-openssl-dev)
test=(clang libclang-rt-14-dev python3 python3-pytest python3-requests postgresql prometheus openssl)
bench=(wrk nginx-light)
# libFuzzer's runtime comes with compiler-rt (mk/fuzz.mk).
fuzz=(clang libclang-rt-14-dev)
# make soak: the load driver (scripts/soak.py) and a throwaway PostgreSQL.
soak=(python3 postgresql)
# The API documentation's web assets come from npm (mk/assets.mk). A machine
# may have node and npm from elsewhere than Debian: look for the command.
command -v npm >/dev/null 2>&1 || build+=(nodejs npm)
# tests/docs: response schemas (jsonschema) and Swagger UI in a real browser;
# tests/web: the dashboard in the same Chromium (driven by node: nodejs).
test+=(python3-jsonschema python3-yaml chromium)
# The container image, offline (mk/container.mk): a Debian root filesystem
# by mmdebstrap, podman with runc to build and run it; deploy/'s checks:
# docker-compose (config only), python3-yaml, systemd-analyze (systemd).
test+=(mmdebstrap podman runc docker-compose systemd)
command -v node >/dev/null 2>&1 || test+=(nodejs)

want=()
for set in "${@:-build}"; do
  case "$set" in
    build) want+=("${build[@]}") ;;
    test) want+=("${build[@]}" "${test[@]}") ;;
    bench) want+=("${build[@]}" "${bench[@]}") ;;
    fuzz) want+=("${build[@]}" "${fuzz[@]}") ;;
    soak) want+=("${build[@]}" "${soak[@]}") ;;
    *) echo "install-deps: unknown set '$set'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: missing packages and not root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
