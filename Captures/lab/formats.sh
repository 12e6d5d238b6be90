#!/usr/bin/env bash
# formats.sh [OUTDIR] — real traffic between two hosts in network namespaces, captured at once in
# every file form users send us; then derived forms that no capture tool writes by itself.
#
# Run as root on Debian (see "Needs" below). It creates two namespaces joined by a veth pair,
# starts real servers (dnsmasq, python3 http.server, openssl s_server), runs real clients (ping,
# dig, curl, nc, openssl) and records the conversation with tcpdump and dumpcap simultaneously:
#
#   lan.pcap            tcpdump, Ethernet, microseconds (the reference the others are compared to)
#   lan-ns.pcap         tcpdump --time-stamp-precision=nano
#   lan.pcapng          dumpcap, one interface
#   lan-multi.pcapng    dumpcap on the veth (Ethernet) and on "any" (Linux cooked): two interfaces,
#                       two link types, each packet seen twice
#   lan-sll.pcap        tcpdump -i any (LINUX_SLL)
#   lan-sll2.pcap       tcpdump -i any -y LINUX_SLL2
#   lan-snap96.pcap     tcpdump -s 96 (snap-length-limited)
#   lan-vlan.pcap       the same conversation again, copied by span.py to a mirror port with an
#                       802.1Q tag (VLAN 20), as a switch's SPAN session on a trunk delivers it
# Derived (Scripts/pcaptool.py, from the files above):
#   lan-be.pcap         big-endian pcap
#   lan-be.pcapng       big-endian pcapng
#   lan-tsresol.pcapng  if_tsresol 2^-20 and an if_tsoffset of 1000 s (timestamps adjusted)
#   lan-spb.pcapng      simple and obsolete packet blocks instead of enhanced ones
#   lan-cut.pcap        cut in the middle of a packet record (tcpdump killed mid-write)
#   lan-part1.pcap, lan-part2.pcap   lan.pcap split in two (rotated files), for time-ordered merging
#
# Needs (Debian): tcpdump tshark (dumpcap) dnsmasq-base bind9-dnsutils iputils-ping curl openssl
#                 netcat-openbsd ethtool iproute2 python3
# Only addresses inside the namespaces are used (10.20.0.0/24, fd00:20::/64); nothing routes out.
set -euo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/..}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "formats.sh: run as root (it creates network namespaces)" >&2; exit 2; }
for tool in tcpdump dumpcap dnsmasq dig ping curl openssl nc ethtool python3 ip; do
    command -v "$tool" >/dev/null || { echo "formats.sh: missing $tool (see Needs in this script)" >&2; exit 2; }
done

TAG="sa$$"
CLIENT="$TAG-client"
SERVER="$TAG-server"
WORK=$(mktemp -d)
PIDS=()

cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    sleep 0.3
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    ip netns del "$CLIENT" 2>/dev/null
    ip netns del "$SERVER" 2>/dev/null
    ip netns del "$TAG-span" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

inc() { ip netns exec "$CLIENT" "$@"; }
ins() { ip netns exec "$SERVER" "$@"; }
start_in() {  # NAMESPACE LOG COMMAND... — start a background process, remember its PID
    local ns=$1 log=$2
    shift 2
    ip netns exec "$ns" "$@" >"$log" 2>&1 &
    PIDS+=($!)
}

ip netns add "$CLIENT"
ip netns add "$SERVER"
ip link add "$TAG-c" type veth peer name "$TAG-s"
ip link set "$TAG-c" netns "$CLIENT" name eth0
ip link set "$TAG-s" netns "$SERVER" name eth0
# Fixed MAC addresses make the goldens reproducible (locally administered range).
inc ip link set eth0 address 02:00:00:20:00:10
ins ip link set eth0 address 02:00:00:20:00:01
for ns in "$CLIENT" "$SERVER"; do
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip link set eth0 up
    # A SPAN port sees frames as they are on the wire: no offload super-packets.
    ip netns exec "$ns" ethtool -K eth0 tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0
done

configure_addresses() {  # IFACE — addresses on eth0 or on a VLAN sub-interface
    local ifc=$1
    inc ip addr add 10.20.0.10/24 dev "$ifc"
    ins ip addr add 10.20.0.1/24 dev "$ifc"
    inc ip addr add fd00:20::10/64 dev "$ifc" nodad
    ins ip addr add fd00:20::1/64 dev "$ifc" nodad
}

make_certificate() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=server.lan.test" \
        -addext "subjectAltName=DNS:server.lan.test" \
        -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
}

start_servers() {
    mkdir -p "$WORK/www"
    printf 'hello from the lab\n' >"$WORK/www/hello.txt"
    # A TXT answer of ~3 kB: larger than the 1500-byte MTU, so the server's IP layer fragments it.
    local big
    big=$(python3 -c 'print(",".join(["\"" + ("x%03d" % i) * 60 + "\"" for i in range(12)]))')
    start_in "$SERVER" "$WORK/dnsmasq.log" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
        --listen-address=10.20.0.1 --listen-address=fd00:20::1 --port=53 \
        --address=/server.lan.test/10.20.0.1 --address=/server.lan.test/fd00:20::1 \
        --txt-record="big.lan.test,$big" --edns-packet-max=4096
    start_in "$SERVER" "$WORK/http.log" python3 -m http.server 8080 --bind :: --directory "$WORK/www"
    start_in "$SERVER" "$WORK/tls.log" openssl s_server -accept 8443 -cert "$WORK/cert.pem" \
        -key "$WORK/key.pem" -www -quiet
    sleep 1.5
}

stop_servers() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}

run_traffic() {  # the same conversation every time, with pauses so that flows are distinct
    local pause=0.4
    inc ping -c 2 -i 0.2 10.20.0.1 >/dev/null; sleep $pause
    inc dig +tries=1 +time=2 @10.20.0.1 server.lan.test A >/dev/null; sleep $pause
    inc curl -sS -o /dev/null http://10.20.0.1:8080/hello.txt; sleep $pause
    inc curl -sS -k -o /dev/null --resolve server.lan.test:8443:10.20.0.1 \
        https://server.lan.test:8443/ || true; sleep $pause
    # A closed TCP port answers with a RST; a closed UDP port with ICMP port unreachable.
    inc curl -sS -o /dev/null --max-time 2 http://10.20.0.1:81/ 2>/dev/null || true; sleep $pause
    echo probe | inc nc -u -w 1 10.20.0.1 9999 >/dev/null 2>&1 || true; sleep $pause
    inc dig +tries=1 +time=2 +bufsize=4096 +ignore @10.20.0.1 big.lan.test TXT >/dev/null; sleep $pause
    inc ping -6 -c 2 -i 0.2 fd00:20::1 >/dev/null; sleep $pause
    inc curl -sS -6 -o /dev/null 'http://[fd00:20::1]:8080/hello.txt'; sleep $pause
    inc dig +tries=1 +time=2 @fd00:20::1 server.lan.test AAAA >/dev/null; sleep 1
}

CAPTURE_PIDS=()
capture() {  # NAMESPACE OUTFILE COMMAND... — start a capture process and wait until it listens
    local ns=$1 file=$2
    shift 2
    ip netns exec "$ns" "$@" >"$WORK/$(basename "$file").log" 2>&1 &
    CAPTURE_PIDS+=($!)
}
stop_captures() {
    sleep 0.5
    for pid in "${CAPTURE_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    for pid in "${CAPTURE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    CAPTURE_PIDS=()
}

make_certificate

# --- Plain Ethernet: every capture form at once -------------------------------------------------
configure_addresses eth0
inc ip neigh replace 10.20.0.1 lladdr 02:00:00:20:00:01 dev eth0
ins ip neigh replace 10.20.0.10 lladdr 02:00:00:20:00:10 dev eth0
start_servers
capture "$CLIENT" lan.pcap tcpdump -U -i eth0 -w "$OUT/lan.pcap"
capture "$CLIENT" lan-ns.pcap tcpdump -U -i eth0 --time-stamp-precision=nano -w "$OUT/lan-ns.pcap"
capture "$CLIENT" lan-sll.pcap tcpdump -U -i any -y LINUX_SLL -w "$OUT/lan-sll.pcap"
capture "$CLIENT" lan-sll2.pcap tcpdump -U -i any -y LINUX_SLL2 -w "$OUT/lan-sll2.pcap"
capture "$CLIENT" lan-snap96.pcap tcpdump -U -i eth0 -s 96 -w "$OUT/lan-snap96.pcap"
capture "$CLIENT" lan.pcapng dumpcap -q -i eth0 -w "$OUT/lan.pcapng"
capture "$CLIENT" lan-multi.pcapng dumpcap -q -i eth0 -i any -w "$OUT/lan-multi.pcapng"
sleep 2
run_traffic
stop_captures
stop_servers

# --- The same conversation mirrored to a SPAN port as a trunk carries it (802.1Q VLAN 20) --------
# A third namespace holds the capture port; span.py copies every frame of the client's port to it
# with the VLAN tag, as a switch's mirror session on a trunk does.
SPAN="$TAG-span"
ip netns add "$SPAN"
ip link add "$TAG-m" type veth peer name "$TAG-p"
ip link set "$TAG-m" netns "$CLIENT" name mirror0
ip link set "$TAG-p" netns "$SPAN" name span0
inc sysctl -qw net.ipv6.conf.mirror0.disable_ipv6=1
ip netns exec "$SPAN" sysctl -qw net.ipv6.conf.span0.disable_ipv6=1
inc ip link set mirror0 up
ip netns exec "$SPAN" ip link set span0 up
start_servers
start_in "$CLIENT" "$WORK/span.log" python3 "$HERE/span.py" --source eth0 --mirror mirror0 --vlan 20
capture "$SPAN" lan-vlan.pcap tcpdump -U -i span0 -w "$OUT/lan-vlan.pcap"
sleep 2
run_traffic
stop_captures
stop_servers
ip netns del "$SPAN"

# --- Derived forms -----------------------------------------------------------------------------
TOOL="$HERE/../../Scripts/pcaptool.py"
python3 "$TOOL" swap "$OUT/lan.pcap" "$OUT/lan-be.pcap"
python3 "$TOOL" swap "$OUT/lan.pcapng" "$OUT/lan-be.pcapng"
python3 "$TOOL" tsresol "$OUT/lan.pcapng" "$OUT/lan-tsresol.pcapng" --binary 20 --offset 1000
python3 "$TOOL" simple-blocks "$OUT/lan.pcapng" "$OUT/lan-spb.pcapng"
python3 "$TOOL" cut "$OUT/lan.pcap" "$OUT/lan-cut.pcap" --fraction 0.6
python3 "$TOOL" split "$OUT/lan.pcap" "$OUT/lan-part1.pcap" "$OUT/lan-part2.pcap"
chmod 0644 "$OUT"/lan*.pcap "$OUT"/lan*.pcapng
ls -l "$OUT"/lan*
