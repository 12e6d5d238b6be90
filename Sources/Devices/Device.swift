public import Classify
public import Wire

/// One local device of the capture: who it is (addresses, vendor, the names it gives itself and
/// others give it), what it says about itself (DHCP, mDNS, SSDP, HTTP and TLS clients), what it
/// serves and uses, and its traffic each way.
public struct Device: Sendable {
    public var address: IPAddress
    /// The source MAC address its packets carried most often (none on links without one: raw IP,
    /// PPP). Behind a router every device shows the router's MAC: only devices on the captured
    /// segment have their own.
    public var mac: MACAddress?
    /// Other source MACs its packets carried (a device that changed its network card, or an
    /// address reused by another device during the capture).
    public var otherMACs: [MACAddress] = []
    /// The IEEE registry's organization for `mac`.
    public var macVendor: String?
    /// Names, with where each came from, in the order first seen.
    public var names: [Name] = []
    public var dhcp: DHCPIdentity?
    public var mdns = MDNSAnnouncements()
    /// SSDP `SERVER` strings of its NOTIFY messages and search answers (UPnP devices name their
    /// OS, UPnP version and product there), and their `LOCATION` URLs.
    public var ssdpServers: [String] = []
    public var ssdpLocations: [String] = []
    /// User-Agent strings it sent as an HTTP or RTSP client, SSDP searcher or SSH client.
    public var userAgents: [String] = []
    /// `Server` strings it answered with as an HTTP or RTSP server, and SSH server banners.
    public var serverAgents: [String] = []
    /// JA4 fingerprints of its TLS, DTLS and QUIC ClientHellos, with how many flows showed each.
    public var tlsClients: [Fingerprint] = []
    /// What others reached on it (answered flows only), most used first.
    public var serves: [ServicePort] = []
    /// What it reached elsewhere, most used first.
    public var uses: [ServicePort] = []
    public var traffic = Traffic()

    public init(address: IPAddress) {
        self.address = address
    }

    public struct Name: Sendable, Equatable {
        public var name: String
        public var source: Source

        public enum Source: String, Sendable {
            /// DHCP host name option (12) or client FQDN (81).
            case dhcp
            /// An mDNS A/AAAA record it announced.
            case mdns
            /// A DNS answer gave this address for the name (and another device asked).
            case dns
            /// Others reached it by this name: TLS SNI, HTTP Host, RTSP URL.
            case serverName = "server_name"
        }
    }

    public struct DHCPIdentity: Sendable, Equatable {
        public var hostName: String?
        public var vendorClass: String?
        /// Option 55: the options the client asked for, in order — an OS fingerprint.
        public var parameterList: [Int] = []
        /// The address the server gave it, when the exchange was seen.
        public var assignedAddress: String?
        public var messages: [String] = []
    }

    public struct MDNSAnnouncements: Sendable, Equatable {
        public var hosts: [String] = []
        public var services: [String] = []
        public var instances: [String] = []
        public var texts: [String] = []
        public var isEmpty: Bool { hosts.isEmpty && services.isEmpty && instances.isEmpty }
    }

    public struct Fingerprint: Sendable, Equatable {
        public var ja4: String
        public var flows: Int
        /// Server names it sent with this fingerprint, a few.
        public var serverNames: [String]
    }

    /// A transport port and what classification made of its flows.
    public struct ServicePort: Sendable, Equatable {
        public var transport: String
        public var port: UInt16
        /// The service most of its flows were (nil: none recognised).
        public var service: Service?
        public var flows: Int
        /// Distinct peers (other ends), counted up to `DeviceInventory.maximumPeersPerPort`.
        public var peers: Int
    }

    /// Each way from the device's point of view: sent is what it transmitted.
    public struct Traffic: Sendable, Equatable {
        /// Frame bytes on the wire (what the link carries, as vendors state bandwidth), IP-layer
        /// bytes (Zeek's `*_ip_bytes`), and packets. Frames without IP (ARP) are not counted.
        public var sentBytes: UInt64 = 0
        public var receivedBytes: UInt64 = 0
        public var sentIPBytes: UInt64 = 0
        public var receivedIPBytes: UInt64 = 0
        public var sentPackets: UInt64 = 0
        public var receivedPackets: UInt64 = 0
        /// Flows it started, and flows others started to it.
        public var flowsOriginated = 0
        public var flowsAnswered = 0
        /// Distinct addresses it exchanged packets with, local and remote.
        public var localPeers = 0
        public var remotePeers = 0
        /// Capture time of its first and last packet, nanoseconds since the epoch.
        public var first: Int64 = .max
        public var last: Int64 = .min
    }
}
