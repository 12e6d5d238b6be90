#!/usr/bin/env bash
# setup.sh — install what the capture lab runs (Debian, as root). Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq iproute2 ethtool nftables tcpdump tshark dnsmasq-base busybox bind9-dnsutils iputils-ping \
    curl openssl netcat-openbsd ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
    gir1.2-gst-rtsp-server-1.0 python3-gi python3-gst-1.0 nginx libnginx-mod-rtmp coturn chrony \
    strongswan-charon ike-scan tinyproxy minidlna gupnp-tools openssh-server openssh-client >/dev/null
# PyPI packages for the python3 on PATH (the lab's orchestrator and agents run with it).
python3 -m pip install -q aioquic websockets zeroconf pyyaml
echo "setup.sh: the lab's tools are installed"
