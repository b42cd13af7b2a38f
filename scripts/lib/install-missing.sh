# install_missing PACKAGE... : on Debian, install the packages that are not installed yet
# (apt-get update first, as root); elsewhere, or without root, say what is missing and fail.
# Sourced by scripts/test and scripts/sim.
install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "missing packages: ${missing[*]} (this script installs them on Debian 12)" >&2
    return 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing packages: ${missing[*]} (run as root, or install them)" >&2
    return 1
  fi
  echo "== installing: ${missing[*]}" >&2
  # Servers the tests use (redis-server, prometheus for its promtool) are started by the tests
  # themselves on free ports: keep their packages from starting system services as they install.
  local no_services=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    no_services=1
  fi
  apt-get update -qq
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
  [[ $no_services -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
  return $rc
}
