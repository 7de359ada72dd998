import Foundation
@testable import Host
import Logging
import XCTest

/// The audit log file's rotation and the audit trail's records, without a server.
final class AuditLogTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-audit")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func lines(_ name: String) -> [String]? {
        guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else { return nil }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast()
    }

    /// 30-byte lines in 100-byte files: three lines a file, the fourth rotates; with two
    /// backups the oldest file is dropped.
    func testRotatesBeforeALineWouldPassTheSizeAndKeepsBackupCountFiles() async throws {
        let path = directory.appendingPathComponent("audit.log").path
        let file = try AuditLogFile(path: path, maxBytes: 100, backups: 2)
        let written = (0..<10).map { String(format: "line %02d ", $0) + String(repeating: "x", count: 21) }
        XCTAssertEqual(written[0].utf8.count + 1, 30)
        for line in written { file.append(line) }
        file.flush()
        XCTAssertEqual(lines("audit.log"), [written[9]])
        XCTAssertEqual(lines("audit.log.1"), Array(written[6...8]))
        XCTAssertEqual(lines("audit.log.2"), Array(written[3...5]))
        XCTAssertNil(lines("audit.log.3"), "only backup_count rotated files are kept")
        await file.close()
        file.append("after close")
        file.flush()
        XCTAssertEqual(lines("audit.log"), [written[9]], "a closed file takes no more lines")

        // A restart appends to the file it finds and counts its size.
        let reopened = try AuditLogFile(path: path, maxBytes: 100, backups: 2)
        for line in written.prefix(3) { reopened.append(line) }
        reopened.flush()
        XCTAssertEqual(lines("audit.log"), [written[2]])
        XCTAssertEqual(lines("audit.log.1"), [written[9], written[0], written[1]])
        XCTAssertEqual(lines("audit.log.2"), Array(written[6...8]))
        await reopened.close()
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode.map { $0 & 0o007 }, 0, "the audit log is not world-readable")
    }

    func testAnUnwritablePathIsRefusedAtOpen() {
        XCTAssertThrowsError(try AuditLogFile(path: directory.appendingPathComponent("missing/audit.log").path,
                                              maxBytes: 1000, backups: 1)) { error in
            XCTAssertTrue("\(error)".contains("missing/audit.log"), "\(error)")
        }
    }

    /// Each audited event is one JSON object with its time and name; the chain is left out,
    /// challenge steps are not audited.
    func testRecordsCarryTimeNameAndFieldsButNoChain() throws {
        let dispatcher = EventDispatcher()
        let path = directory.appendingPathComponent("audit.log").path
        let file = try AuditLogFile(path: path, maxBytes: 1 << 20, backups: 1)
        AuditTrail.subscribe(dispatcher) { file.append($0) }
        let account = UUID(), order = UUID(), certificate = UUID()
        dispatcher.publish(
            .accountRegistered(accountID: account, contacts: [], jwkThumbprint: "tp", termsOfServiceAgreed: true,
                               eabKID: "kid-1"),
            .challengeBeforeValidate(.init(challengeID: UUID(), authorizationID: UUID(), accountID: account,
                                           challengeType: "http-01", token: "t",
                                           identifier: Identifier(type: "dns", value: "a.example.test"))),
            .certificateIssued(certificateID: certificate, orderID: order, accountID: account, serial: "0A",
                               domains: ["a.example.test"], notAfter: Date(), pemChain: "-----BEGIN CERTIFICATE-----"),
            .requestRefused(.init(kind: .rateLimit, problem: "rateLimited", detail: "rate limit new_nonce exceeded",
                                  path: "/new-nonce", clientIP: "127.0.0.1")))
        file.flush()
        let records = try XCTUnwrap(lines("audit.log")).map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], $0)
        }
        XCTAssertEqual(records.map { $0["event"] as? String },
                       ["account.registration", "certificate.issuance", "rate_limit.exceeded"])
        guard records.count == 3 else { return }
        XCTAssertEqual(records[0]["eab_kid"] as? String, "kid-1")
        XCTAssertEqual(records[0]["account_id"] as? String, DomainEvent.text(account))
        XCTAssertNil(records[1]["pem_chain"])
        XCTAssertEqual(records[1]["serial_number"] as? String, "0A")
        XCTAssertEqual(records[1]["order_id"] as? String, DomainEvent.text(order))
        XCTAssertEqual(records[2]["client_ip"] as? String, "127.0.0.1")
        XCTAssertEqual(records[2]["problem"] as? String, "rateLimited")
        for record in records {
            let timestamp = try XCTUnwrap(record["timestamp"] as? String)
            XCTAssertTrue(timestamp.hasSuffix("Z"), timestamp)
            XCTAssertNotNil(try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(timestamp), timestamp)
        }
        closeFile(file)
    }

    /// Without `logging.audit.file`, each audited event is an info line `audit <event>` of
    /// the main log, its fields as metadata.
    func testWithoutAFileTheRecordsGoToTheMainLog() {
        let captured = LogCapture()
        let logger = Logger(label: "acmeeh.audit") { label in CapturingLogHandler(label: label, capture: captured) }
        let dispatcher = EventDispatcher()
        AuditTrail.subscribe(dispatcher, logger: logger)
        let account = UUID()
        dispatcher.publish(.accountDeactivated(accountID: account), .certificateDelivered(
            certificateID: UUID(), accountID: account, serial: "01"))
        let lines = captured.lines()
        XCTAssertEqual(lines.map(\.message), ["audit account.deactivation"])
        XCTAssertEqual(lines.first?.level, .info)
        XCTAssertEqual(lines.first?.metadata["account_id"], DomainEvent.text(account))
        XCTAssertEqual(lines.first?.metadata["event"], "account.deactivation")
    }

    private func closeFile(_ file: AuditLogFile) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await file.close()
            done.signal()
        }
        done.wait()
    }
}
