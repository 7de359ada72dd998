import Foundation
import Synchronization

/// Audit records sent to syslog as datagrams: to the local daemon's `/dev/log`
/// (`logging.audit.syslog`, RFC 3164 framing as local daemons expect) or to a collector over
/// UDP (`audit_export.syslog_host`/`syslog_port`, RFC 5424 over RFC 5426). Facility authpriv,
/// severity notice; the message is the record's JSON line. Sending happens on one serial
/// queue (a full socket buffer never stalls a request); a send that fails is reported once
/// per run of failures and the record is dropped — the audit file stays the record of
/// reference.
final class AuditSyslog: @unchecked Sendable {
    enum Target: Sendable, Equatable {
        /// A unix datagram socket (the local daemon).
        case local(path: String)
        /// A collector's host name or address, and its UDP port.
        case remote(host: String, port: Int)
    }

    /// `<PRI>`: facility authpriv (10) × 8 + severity notice (5).
    static let priority = 10 * 8 + 5
    /// Longer records are not sent (RFC 5426 §3.2: 2048 bytes SHOULD be accepted; collectors
    /// commonly take 8 KiB).
    static let maxMessageBytes = 8192

    let target: Target
    private let queue = DispatchQueue(label: "acmeeh.audit-syslog")
    private let report: @Sendable (String) -> Void
    private let hostname: String
    // Touched only on `queue`.
    private let descriptor: Int32
    private let address: [UInt8]
    private var failing = false

    /// Opens the socket and resolves the collector; throws when either fails.
    init(_ target: Target, report: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.target = target
        self.report = report
        hostname = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "-"
        switch target {
        case .local(let path):
            var unix = sockaddr_un()
            unix.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: unix.sun_path) else { throw AuditSinkError("\(path): path too long") }
            withUnsafeMutableBytes(of: &unix.sun_path) { $0.copyBytes(from: bytes) }
            address = withUnsafeBytes(of: unix) { Array($0) }
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        case .remote(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
            var found: UnsafeMutablePointer<addrinfo>? = nil
            let status = getaddrinfo(host, String(port), &hints, &found)
            guard status == 0, let first = found else {
                throw AuditSinkError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
            }
            defer { freeaddrinfo(found) }
            address = Array(UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
            descriptor = socket(first.pointee.ai_family, Int32(SOCK_DGRAM.rawValue), 0)
        }
        guard descriptor >= 0 else { throw AuditSinkError("socket: \(String(cString: strerror(errno)))") }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(descriptor) }

    /// Queues one record (a JSON line without newline) for sending.
    func send(_ line: String, at date: Date = Date()) {
        let message = Array(frame(line, at: date).utf8)
        guard message.count <= Self.maxMessageBytes else {
            report("audit record of \(message.count) bytes not sent to syslog (limit \(Self.maxMessageBytes))")
            return
        }
        queue.async { self.transmit(message) }
    }

    /// The datagram for `line`: RFC 3164 to the local daemon, RFC 5424 to a collector.
    func frame(_ line: String, at date: Date) -> String {
        let pid = ProcessInfo.processInfo.processIdentifier
        switch target {
        case .local:
            return "<\(Self.priority)>acmeeh[\(pid)]: \(line)"
        case .remote:
            let time = date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            return "<\(Self.priority)>1 \(time) \(hostname) acmeeh \(pid) audit - \(line)"
        }
    }

    /// Waits (blocking: not for async code) until every queued record was handed to the socket.
    func flush() {
        queue.sync {}
    }

    private func transmit(_ message: [UInt8]) {
        let sent = address.withUnsafeBytes { to in
            message.withUnsafeBytes { bytes in
                sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL),
                       to.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(to.count))
            }
        }
        if sent < 0 {
            if !failing { report("audit records not sent to syslog \(target): \(String(cString: strerror(errno)))") }
            failing = true
        } else {
            failing = false
        }
    }
}

/// An audit sink (the file, a syslog target) cannot be opened.
struct AuditSinkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
