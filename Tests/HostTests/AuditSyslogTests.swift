import Foundation
@testable import Host
import Synchronization
import XCTest

/// Audit records sent to syslog: to a local daemon's unix datagram socket
/// (`logging.audit.syslog`) and to a UDP collector (`audit_export.syslog_host`), each one
/// datagram with the record's JSON line, framed as RFC 3164 and RFC 5424.
final class AuditSyslogTests: XCTestCase {
    /// A datagram socket the test reads from, bound to `address`.
    final class Receiver {
        let descriptor: Int32

        init(family: Int32, address: [UInt8]) throws {
            descriptor = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let bound = address.withUnsafeBytes {
                bind(descriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
            }
            guard bound == 0 else { throw CLIFailure("bind: \(String(cString: strerror(errno)))") }
        }

        deinit { close(descriptor) }

        /// The next datagram, or nil after 5 s.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
        }

        /// The UDP port it was bound to.
        var port: Int {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }

    func testRecordsReachALocalDaemonAndARemoteCollector() throws {
        let directory = try TestPaths.temporaryDirectory("acmeeh-audit-syslog")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("log").path
        var unix = sockaddr_un()
        unix.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &unix.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
        let daemon = try Receiver(family: AF_UNIX, address: withUnsafeBytes(of: unix) { Array($0) })
        var inet = sockaddr_in()
        inet.sin_family = sa_family_t(AF_INET)
        inet.sin_addr.s_addr = inet_addr("127.0.0.1")
        let collector = try Receiver(family: AF_INET, address: withUnsafeBytes(of: inet) { Array($0) })

        let config = try ConfigLoader.load(yaml: ConfigTests.minimal + """
            logging:
              audit:
                syslog: true
            audit_export:
              syslog_host: localhost
              syslog_port: \(collector.port)
            """, source: "test.yaml", environment: [:])
        let reported = Mutex<[String]>([])
        let sinks = try AuditSinks.open(config, localSyslog: socketPath) { message in
            reported.withLock { $0.append(message) }
        }
        XCTAssertNil(sinks.file)
        XCTAssertEqual(sinks.syslogs.map(\.target), [.local(path: socketPath), .remote(host: "localhost", port: collector.port)])
        let line = #"{"account_id":"a","event":"account.registration"}"#
        sinks.write(line)

        let pid = ProcessInfo.processInfo.processIdentifier
        XCTAssertEqual(daemon.receive(), "<85>acmeeh[\(pid)]: \(line)")
        let remote = try XCTUnwrap(collector.receive())
        // RFC 5424: <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
        let fields = remote.split(separator: " ", maxSplits: 7).map(String.init)
        XCTAssertEqual(fields.count, 8, remote)
        XCTAssertEqual(fields[0], "<85>1")
        XCTAssertNotNil(try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(fields[1]), remote)
        XCTAssertEqual(Array(fields[3...7]), ["acmeeh", "\(pid)", "audit", "-", line])
        XCTAssertEqual(reported.withLock { $0 }, [])

        // A daemon that went away: the failure is reported once, not per record.
        try FileManager.default.removeItem(atPath: socketPath)
        sinks.write(line)
        sinks.write(line)
        for syslog in sinks.syslogs { syslog.flush() }
        XCTAssertEqual(reported.withLock { $0 }.count, 1, "\(reported.withLock { $0 })")
        XCTAssertNotNil(collector.receive())
    }

    func testTargetsThatCannotBeOpenedNameTheirKey() throws {
        func refusal(_ yaml: String) throws -> String {
            let config = try ConfigLoader.load(yaml: ConfigTests.minimal + yaml, source: "test.yaml", environment: [:])
            do {
                _ = try AuditSinks.open(config, localSyslog: "/nonexistent-dir/log") { _ in }
                return "opened"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(try refusal("audit_export:\n  syslog_host: no-such-host.invalid\n")
            .hasPrefix("audit_export.syslog_host: cannot resolve no-such-host.invalid"))
        XCTAssertEqual(try refusal("logging:\n  audit:\n    enabled: false\n    syslog: true\n"), "opened",
                       "nothing is opened while the audit trail is off")
    }
}
