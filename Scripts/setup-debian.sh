#!/usr/bin/env bash
# setup-debian.sh — install what building and testing SpanAudit needs on Debian (with the Swift
# toolchain already installed). Safe to run again: it installs only what is missing.
#
#   libpcap-dev, pkg-config   the CLibpcap system-library target (live capture, BPF, version)
#   ieee-data                 the IEEE MAC registries `audit devices` names vendors from
#   libsqlite3-dev            SQLite for the nightly history (GRDB)
#   iproute2 iputils-ping openssl coturn python3-zeroconf
#                             the live-capture tests: a veth pair between network namespaces, a TLS
#                             server and client, a STUN server and client, an mDNS announcer
#                             (coturn's own service is left stopped)
#   chromium                  the test that renders the nightly HTML report in a real browser
#   postgresql                the tests of the PostgreSQL history start their own server on
#                             127.0.0.1 (no default cluster is created or started)
set -euo pipefail
packages=(libpcap-dev pkg-config ieee-data libsqlite3-dev iproute2 iputils-ping openssl coturn python3-zeroconf chromium postgresql)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    if printf '%s\n' "${missing[@]}" | grep -qx postgresql; then
        # The tests start their own server: no cluster of the package's own, running for nothing.
        $sudo mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/spanaudit.conf >/dev/null
    fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    if printf '%s\n' "${missing[@]}" | grep -qx coturn && command -v systemctl >/dev/null; then
        $sudo systemctl disable --now coturn >/dev/null 2>&1 || true
    fi
    echo "setup-debian.sh: installed ${missing[*]}"
fi
command -v swift >/dev/null || { echo "setup-debian.sh: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }
