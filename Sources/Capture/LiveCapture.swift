import CLibpcap
import Glibc
import Synchronization
public import Wire

/// How to open interfaces for live capture.
public struct LiveOptions: Sendable {
    /// Bytes kept of each packet (libpcap's default, 262144, keeps whole frames).
    public var snaplen = 262_144
    /// Promiscuous mode: a SPAN port delivers frames addressed to other hosts, which a
    /// non-promiscuous interface drops before the kernel hands them to us.
    public var promiscuous = true
    /// Deliver each packet as it arrives (libpcap then uses TPACKET_V2). Off by default: libpcap
    /// uses TPACKET_V3, which hands over whole blocks of packets — far fewer wake-ups on a busy
    /// port — and retires a block after `blockTimeoutMilliseconds` when traffic is light.
    public var immediate = false
    /// The kernel ring buffer: what absorbs bursts while the analysis is busy.
    public var bufferBytes = 64 << 20
    /// Longest a packet waits in a partly filled TPACKET_V3 block.
    public var blockTimeoutMilliseconds: Int32 = 100
    /// A BPF expression (tcpdump syntax), compiled by libpcap.
    public var filter: String?

    public init() {}
}

/// Why an interface could not be opened or filtered: one line a user can act on.
public struct LiveCaptureError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case noSuchInterface, permission, interfaceDown, badFilter, failed
    }

    public var interface: String
    public var kind: Kind
    public var message: String

    public var description: String { "\(interface): \(message)" }
}

/// The kernel's counts for one interface (`pcap_stats`), since it was opened.
public struct LiveStatistics: Sendable, Equatable {
    /// Packets that passed the filter (received by the capture, processed or not).
    public var received: UInt64 = 0
    /// Dropped because the ring buffer was full: the analysis fell behind.
    public var droppedByKernel: UInt64 = 0
    /// Dropped by the interface or its driver before the kernel saw them.
    public var droppedByInterface: UInt64 = 0

    public init(received: UInt64 = 0, droppedByKernel: UInt64 = 0, droppedByInterface: UInt64 = 0) {
        self.received = received
        self.droppedByKernel = droppedByKernel
        self.droppedByInterface = droppedByInterface
    }

    public var dropped: UInt64 { droppedByKernel &+ droppedByInterface }
}

/// One interface opened through libpcap. Packets reach `body` as views of libpcap's ring buffer
/// (valid only during the call), never copied.
///
/// Contract: `open` validates the interface, permissions and filter and throws a
/// `LiveCaptureError` naming which; `dispatch` never blocks (the interface is non-blocking; wait
/// on `fileDescriptor`). Not thread-safe.
@safe public final class LiveInterface {
    public let name: String
    public let input: Int
    public let linkType: LinkType
    public let snaplen: Int
    public private(set) var stats = CaptureReader.Stats()
    private let handle: OpaquePointer
    private let nanosecondTimestamps: Bool
    private var closed = false
    /// pcap 32-bit counters wrap; these carry the totals across wraps.
    private var lastRaw: (UInt32, UInt32, UInt32) = (0, 0, 0)
    private var totals = LiveStatistics()

    public init(name: String, input: Int, options: LiveOptions) throws(LiveCaptureError) {
        self.name = name
        self.input = input
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let handle = unsafe pcap_create(name, &errorBuffer) else {
            throw LiveCaptureError(interface: name, kind: .failed, message: Self.text(errorBuffer))
        }
        unsafe pcap_set_snaplen(handle, Int32(clamping: options.snaplen))
        unsafe pcap_set_promisc(handle, options.promiscuous ? 1 : 0)
        unsafe pcap_set_timeout(handle, options.blockTimeoutMilliseconds)
        unsafe pcap_set_buffer_size(handle, Int32(clamping: options.bufferBytes))
        if options.immediate { unsafe pcap_set_immediate_mode(handle, 1) }
        let nano = unsafe pcap_set_tstamp_precision(handle, Int32(PCAP_TSTAMP_PRECISION_NANO)) == 0
        let status = unsafe pcap_activate(handle)
        if status < 0 {
            let detail = unsafe String(cString: pcap_geterr(handle))
            unsafe pcap_close(handle)
            throw Self.activationError(name, status, detail)
        }
        unsafe self.handle = handle
        let precision = unsafe pcap_get_tstamp_precision(handle)
        self.nanosecondTimestamps = nano && precision == Int32(PCAP_TSTAMP_PRECISION_NANO)
        self.linkType = LinkType(rawValue: UInt32(bitPattern: unsafe pcap_datalink(handle)))
        self.snaplen = Int(unsafe pcap_snapshot(handle))
        if let filter = options.filter { try setFilter(filter) }
        if unsafe pcap_setnonblock(handle, 1, &errorBuffer) != 0 {
            let message = Self.text(errorBuffer)
            close()
            throw LiveCaptureError(interface: name, kind: .failed, message: "cannot read without blocking: \(message)")
        }
    }

    deinit { close() }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func activationError(_ name: String, _ status: Int32, _ detail: String) -> LiveCaptureError {
        switch status {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            return LiveCaptureError(interface: name, kind: .noSuchInterface,
                                    message: "no such interface (list them with `ip link`)")
        case PCAP_ERROR_PERM_DENIED:
            return LiveCaptureError(interface: name, kind: .permission,
                                    message: "permission denied: capturing needs root or the capabilities CAP_NET_RAW and "
                                        + "CAP_NET_ADMIN (sudo setcap cap_net_raw,cap_net_admin=eip \"$(command -v audit)\")")
        case PCAP_ERROR_IFACE_NOT_UP:
            return LiveCaptureError(interface: name, kind: .interfaceDown,
                                    message: "the interface is down (ip link set \(name) up)")
        default:
            let text = unsafe String(cString: pcap_statustostr(status))
            return LiveCaptureError(interface: name, kind: .failed, message: detail.isEmpty ? text : "\(text): \(detail)")
        }
    }

    /// Compiles and installs a BPF filter; a bad expression throws libpcap's message.
    public func setFilter(_ expression: String) throws(LiveCaptureError) {
        var program = unsafe bpf_program()
        if unsafe pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0 {
            let message = unsafe String(cString: pcap_geterr(handle))
            throw LiveCaptureError(interface: name, kind: .badFilter, message: "bad filter \"\(expression)\": \(message)")
        }
        defer { unsafe pcap_freecode(&program) }
        if unsafe pcap_setfilter(handle, &program) != 0 {
            let message = unsafe String(cString: pcap_geterr(handle))
            throw LiveCaptureError(interface: name, kind: .badFilter, message: "cannot install filter \"\(expression)\": \(message)")
        }
    }

    /// Checks a BPF expression for `linkType` without opening anything (for a clear error before
    /// capture starts).
    public static func validate(filter expression: String, linkType: LinkType = .ethernet,
                                snaplen: Int = 262_144) -> String? {
        guard let dead = unsafe pcap_open_dead(Int32(bitPattern: linkType.rawValue), Int32(clamping: snaplen)) else {
            return "cannot check the filter"
        }
        defer { unsafe pcap_close(dead) }
        var program = unsafe bpf_program()
        if unsafe pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0 {
            let message = unsafe String(cString: pcap_geterr(dead))
            return "bad filter \"\(expression)\": " + message
        }
        unsafe pcap_freecode(&program)
        return nil
    }

    /// What to wait on (`poll`) for packets.
    public var fileDescriptor: Int32 { unsafe pcap_get_selectable_fd(handle) }

    /// Delivers the packets ready now (none if nothing is ready). Returns how many, or -1 when
    /// the interface failed (it went away).
    public func dispatch(_ body: (PacketRecord, Span<UInt8>) -> Void) -> Int {
        guard !closed else { return -1 }
        return withoutActuallyEscaping(body) { escapable in
            let context = DispatchContext(interface: self, body: escapable)
            let unmanaged = unsafe Unmanaged.passRetained(context)
            defer { unsafe unmanaged.release() }
            let handler: pcap_handler = { user, header, bytes in
                guard let user = unsafe user, let header = unsafe header, let bytes = unsafe bytes else { return }
                let context = unsafe Unmanaged<DispatchContext>.fromOpaque(UnsafeRawPointer(user)).takeUnretainedValue()
                unsafe context.interface.deliver(header.pointee, bytes, context.body)
            }
            let raw = unsafe unmanaged.toOpaque().assumingMemoryBound(to: UInt8.self)
            return Int(unsafe pcap_dispatch(handle, -1, handler, raw))
        }
    }

    private final class DispatchContext {
        let interface: LiveInterface
        let body: (PacketRecord, Span<UInt8>) -> Void
        init(interface: LiveInterface, body: @escaping (PacketRecord, Span<UInt8>) -> Void) {
            self.interface = interface
            self.body = body
        }
    }

    private func deliver(_ header: pcap_pkthdr, _ bytes: UnsafePointer<UInt8>,
                         _ body: (PacketRecord, Span<UInt8>) -> Void) {
        let fraction = Int64(header.ts.tv_usec) * (nanosecondTimestamps ? 1 : 1000)
        let time = Int64(header.ts.tv_sec) &* 1_000_000_000 &+ fraction
        let captured = Int(header.caplen), original = Int(header.len)
        stats.packets &+= 1
        stats.bytes &+= Int64(original)
        stats.capturedBytes &+= Int64(captured)
        if stats.firstTimestamp == nil { stats.firstTimestamp = time }
        if time > stats.lastTimestamp ?? .min { stats.lastTimestamp = time }
        let record = PacketRecord(timestamp: time, capturedLength: captured, originalLength: original, linkType: linkType,
                                  interface: input, input: input, number: stats.packets)
        let buffer = unsafe UnsafeBufferPointer(start: bytes, count: captured)
        let span = unsafe Span(_unsafeElements: buffer)
        body(record, span)
    }

    /// The kernel's counts so far.
    public func statistics() -> LiveStatistics {
        guard !closed else { return totals }
        var raw = pcap_stat()
        guard unsafe pcap_stats(handle, &raw) == 0 else { return totals }
        // pcap_stat counters are 32-bit and wrap on a busy port: add the differences.
        totals.received &+= UInt64(raw.ps_recv &- lastRaw.0)
        totals.droppedByKernel &+= UInt64(raw.ps_drop &- lastRaw.1)
        totals.droppedByInterface &+= UInt64(raw.ps_ifdrop &- lastRaw.2)
        lastRaw = (raw.ps_recv, raw.ps_drop, raw.ps_ifdrop)
        return totals
    }

    public func close() {
        guard !closed else { return }
        _ = statistics()
        closed = true
        unsafe pcap_close(handle)
    }
}

/// Interfaces captured together until stopped (a signal, `stop()`, or the duration), feeding one
/// run; the live counterpart of `CaptureSet`.
///
/// Packets of several interfaces are delivered as each interface hands them over, so their
/// timestamps interleave only roughly (a SPAN session per interface keeps each one in order).
/// `idle` runs on the reading thread at least every `idleInterval` whatever the traffic, so a
/// run can end timed-out flows, refresh a status line and write reports on a quiet network.
public final class LiveCaptureSet: PacketSource {
    public let interfaces: [LiveInterface]
    /// Stop on its own after this long (nanoseconds of wall-clock time).
    public var duration: Int64?
    public var idleInterval: Int64 = 250_000_000
    private let stopRequested = Atomic<Bool>(false)
    /// Why capture ended early, per interface (reported as that input's error).
    private var failures: [Int: String] = [:]

    /// Opens every interface (all or none: the first failure closes the others and throws).
    public init(interfaces names: [String], options: LiveOptions) throws(LiveCaptureError) {
        var opened: [LiveInterface] = []
        for (index, name) in names.enumerated() {
            do {
                opened.append(try LiveInterface(name: name, input: index, options: options))
            } catch {
                for interface in opened { interface.close() }
                throw error
            }
        }
        interfaces = opened
    }

    /// Ends the capture at the next wake-up (at most a block timeout away). Thread-safe.
    public func stop() { stopRequested.store(true, ordering: .relaxed) }
    public var isStopping: Bool { stopRequested.load(ordering: .relaxed) || LiveSignals.stopRequested }

    public func read(_ body: (PacketRecord, Span<UInt8>) -> Void, idle: () -> Void) {
        let start = WallClock.now
        var lastIdle = start
        var descriptors = interfaces.map { pollfd(fd: $0.fileDescriptor, events: Int16(POLLIN), revents: 0) }
        var active = interfaces.map { _ in true }
        while !isStopping && active.contains(true) {
            if let duration, WallClock.now &- start >= duration { break }
            let ready = unsafe poll(&descriptors, nfds_t(descriptors.count), 100)
            if ready < 0 && errno != EINTR {
                let reason = "waiting for packets failed: " + (unsafe String(cString: strerror(errno)))
                for i in interfaces.indices { failures[i] = reason }
                break
            }
            for (i, interface) in interfaces.enumerated() where active[i] {
                // At most a few rounds per wake-up, so one busy interface cannot starve the others.
                for _ in 0..<8 {
                    let n = interface.dispatch(body)
                    if n < 0 {
                        active[i] = false
                        failures[i] = "capture failed (the interface went away?)"
                        break
                    }
                    if n == 0 { break }
                }
            }
            let now = WallClock.now
            if now &- lastIdle >= idleInterval {
                lastIdle = now
                idle()
            }
        }
        // What the kernel already holds was seen: read it before stopping.
        for (i, interface) in interfaces.enumerated() where active[i] {
            var rounds = 0
            while rounds < 64 && interface.dispatch(body) > 0 { rounds += 1 }
        }
        for interface in interfaces { interface.close() }
    }

    public var results: [CaptureSet.InputResult] {
        interfaces.map { interface in
            var result = CaptureSet.InputResult(path: interface.name)
            result.stats = interface.stats
            result.stats.linkTypes = interface.stats.packets > 0 ? [interface.linkType: interface.stats.packets] : [:]
            result.opened = true
            result.live = interface.statistics()
            if let reason = failures[interface.input] {
                result.error = CaptureError(file: interface.name, offset: 0, kind: .io, reason)
            }
            return result
        }
    }
}

/// SIGINT and SIGTERM end a live capture cleanly (the report still comes); a second one ends the
/// process at once. A signal handler may only store to a lock-free atomic, which is all this does.
public enum LiveSignals {
    private static let count = Atomic<Int>(0)

    public static var stopRequested: Bool { count.load(ordering: .relaxed) > 0 }

    /// Call before starting threads: they inherit the signal mask set here.
    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in
            if LiveSignals.count.add(1, ordering: .relaxed).newValue >= 2 { _exit(130) }
        }
        var unblock = sigset_t()
        unsafe sigemptyset(&unblock)
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            unsafe action.__sigaction_handler.sa_handler = handler
            unsafe sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            unsafe sigaction(signal, &action, nil)
            unsafe sigaddset(&unblock, signal)
        }
        // A parent may have started us with these blocked (some process launchers and service
        // managers do): a blocked SIGINT would never stop the capture.
        unsafe pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }
}

/// Wall-clock nanoseconds since the epoch (`CLOCK_REALTIME`, the clock capture timestamps use).
public enum WallClock {
    public static var now: Int64 {
        var t = timespec()
        unsafe clock_gettime(CLOCK_REALTIME, &t)
        return Int64(t.tv_sec) &* 1_000_000_000 &+ Int64(t.tv_nsec)
    }
}
