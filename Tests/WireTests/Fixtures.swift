import TestSupport

/// Frames from `Captures/lan.pcap` (made by `Captures/lab/formats.sh`), with tcpdump's line for each.
enum Fixtures {
    // tcpdump -nr Captures/lan.pcap (packet 9):
    // IP 10.20.0.10.42024 > 10.20.0.1.53: 9619+ [1au] A? server.lan.test. (56)
    static let dnsQuery = hexBytes("""
        0200 0020 0001 0200 0020 0010 0800 4500 0054 1716 0000 4011 4f51 0a14 000a 0a14
        0001 a428 0035 0040 e643 2593 0120 0001 0000 0000 0001 0673 6572 7665 7203 6c61
        6e04 7465 7374 0000 0100 0100 0029 04d0 0000 0000 000c 000a 0008 696c 18a9 28a5
        7185
        """)

    // (packet 11): IP 10.20.0.10.50862 > 10.20.0.1.8080: Flags [S], seq 4076954687, win 64240,
    // options [mss 1460,sackOK,TS val 541097589 ecr 0,nop,wscale 10], length 0
    static let tcpSYN = hexBytes("""
        0200 0020 0001 0200 0020 0010 0800 4500 003c 67d8 4000 4006 beb1 0a14 000a 0a14
        0001 c6ae 1f90 f301 643f 0000 0000 a002 faf0 5ca4 0000 0204 05b4 0402 080a 2040
        7e75 0000 0000 0103 030a
        """)

    // (packet 48): IP 10.20.0.1 > 10.20.0.10: ICMP 10.20.0.1 udp port 9999 unreachable, length 42
    static let icmpPortUnreachable = hexBytes("""
        0200 0020 0010 0200 0020 0001 0800 45c0 003e c4c8 0000 4001 a104 0a14 0001 0a14
        000a 0303 114f 0000 0000 4500 0022 931d 4000 4011 937b 0a14 000a 0a14 0001 c7d5
        270f 000e b7db 7072 6f62 650a
        """)

    // (packet 52, first 64 bytes): IP 10.20.0.1 > 10.20.0.10: ip-proto-17 — a later fragment
    // (offset 1480) of the 3 kB DNS answer.
    static let laterFragment = hexBytes("""
        0200 0020 0010 0200 0020 0001 0800 4500 05dc fdcb 20b9 4011 425a 0a14 0001 0a14
        000a 3030 3578 3030 3578 3030 3578 3030 3578 3030 3578 3030 3578 3030 3522 f222
        """)

    // (packet 1): IP6 fe80::ff:fe20:1 > ff02::16: HBH ICMP6, multicast listener report v2,
    // 2 group record(s), length 48 — a Hop-by-Hop extension header before ICMPv6.
    static let ipv6HopByHop = hexBytes("""
        3333 0000 0016 0200 0020 0001 86dd 6000 0000 0038 0001 fe80 0000 0000 0000 0000
        00ff fe20 0001 ff02 0000 0000 0000 0000 0000 0000 0016 3a00 0502 0000 0100 8f00
        6fac 0000 0002 0400 0000 ff02 0000 0000 0000 0000 0001 ff00 0001 0400 0000 ff02
        0000 0000 0000 0000 0001 ff20 0001
        """)

    // (packet 60): IP6 fd00:20::10.37060 > fd00:20::1.8080: Flags [S], seq 1769013104, win 64800
    static let ipv6SYN = hexBytes("""
        0200 0020 0001 0200 0020 0010 86dd 600b 1b78 0028 0640 fd00 0020 0000 0000 0000
        0000 0000 0010 fd00 0020 0000 0000 0000 0000 0000 0001 90c4 1f90 6970 ff70 0000
        0000 a002 fd20 c526 0000 0204 05a0 0402 080a bfa5 b29b 0000 0000 0103 030a
        """)

    static let all: [(String, [UInt8])] = [
        ("dnsQuery", dnsQuery), ("tcpSYN", tcpSYN), ("icmpPortUnreachable", icmpPortUnreachable),
        ("laterFragment", laterFragment), ("ipv6HopByHop", ipv6HopByHop), ("ipv6SYN", ipv6SYN),
    ]
}
