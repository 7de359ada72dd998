import Foundation
@testable import Host
import Logging
import NIOConcurrencyHelpers
import XCTest

/// The admin's bulk revocation (`CoreServices.bulkRevoke`) on certificates a real `acmeeh
/// serve` issued with the file CA, run in-process on the same database and CA plugin: an
/// empty filter and a bad reason are refused; a dry run lists and changes nothing; a real run
/// revokes only the matching certificates, each through the revokeCert path (revoked with
/// its reason, the outbox row settled by the CA backend, `certificateRevoked` published).
final class BulkRevocationTests: XCTestCase {
    var workspace: FileValidatorServe!

    override func setUpWithError() throws { workspace = try FileValidatorServe(prefix: "acmeeh-bulk") }
    override func tearDown() { workspace?.cleanUp() }

    struct Issued: Sendable {
        let serial: String
        let accountID: UUID
        let createdAt: Date
        let names: [String]
    }

    func testBulkRevocationRevokesOnlyTheMatchesThroughTheRevokeCertPath() async throws {
        var configFile: URL?
        let server = try workspace.start(extra: "plugins:\n  directory: \(TestPaths.products.path)\n",
                                         edit: { configFile = $0 })
        // Account A: alpha then beta; account B: alpha.
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let first = try workspace.issue(client, name: "alpha.example.test")
        _ = try workspace.issue(client, name: "beta.example.test", account: (first.key, first.account))
        _ = try workspace.issue(client, name: "alpha.example.test")
        XCTAssertEqual(server.stop(), 0)

        let config = try ConfigLoader.load(path: try XCTUnwrap(configFile).path, environment: [:])
        let runtime = try await Runtime.start(config: config, logger: Logger(label: "test"), withValidators: false)
        var core = runtime.core(urls: ACMEURLs(config: config))
        let settled = NIOLockedValueBox<[String]>([])
        core.pluginObserver = PluginCallObserver(caRevocationSettled: { backend, delivered in
            settled.withLockedValue { $0.append("\(backend):\(delivered)") }
        })
        let events = NIOLockedValueBox<[DomainEvent]>([])
        core.events.subscribe { event in events.withLockedValue { $0.append(event) } }

        let issued = try await runtime.database.withConnection { c in
            try c.query("SELECT serial, account_id, created_at, san_values FROM certificates ORDER BY created_at").map {
                Issued(serial: try $0.string("serial"), accountID: try $0.uuid("account_id"),
                       createdAt: try $0.date("created_at"), names: try $0.stringArray("san_values"))
            }
        }
        XCTAssertEqual(issued.map(\.names), [["alpha.example.test"], ["beta.example.test"], ["alpha.example.test"]])
        let (a1, a2, b1) = (issued[0], issued[1], issued[2])
        XCTAssertEqual(a1.accountID, a2.accountID)
        XCTAssertNotEqual(a1.accountID, b1.accountID)

        // Refused: no criterion, a reason RFC 5280 does not assign, a serial that is not hex.
        await assertProblem(.malformed) { _ = try await core.bulkRevoke(BulkRevocationFilter(), reason: 1, dryRun: true, by: "t") }
        await assertProblem(.badRevocationReason) {
            _ = try await core.bulkRevoke(BulkRevocationFilter(domain: "alpha.example.test"), reason: 7, dryRun: false, by: "t")
        }
        await assertProblem(.malformed) {
            _ = try await core.bulkRevoke(BulkRevocationFilter(serialNumbers: ["xyz"]), reason: nil, dryRun: false, by: "t")
        }

        // Dry runs: what matches, nothing changed.
        let alpha = try await core.bulkRevoke(BulkRevocationFilter(domain: "ALPHA.example.test"), reason: 4, dryRun: true, by: "t")
        XCTAssertEqual(alpha.matched, 2)
        XCTAssertEqual(Set(alpha.serials), [a1.serial, b1.serial])
        XCTAssertEqual(alpha.revoked, 0)
        let later = try await core.bulkRevoke(BulkRevocationFilter(accountID: a1.accountID, issuedAfter: a2.createdAt),
                                              reason: nil, dryRun: true, by: "t")
        XCTAssertEqual(later.serials, [a2.serial], "issued_after is inclusive and on the issue time")
        let earlier = try await core.bulkRevoke(BulkRevocationFilter(accountID: a1.accountID, issuedBefore: a2.createdAt),
                                                reason: nil, dryRun: true, by: "t")
        XCTAssertEqual(earlier.serials, [a1.serial])
        var revoked = try await revokedRows(runtime.database)
        XCTAssertEqual(revoked, [:], "a dry run revokes nothing")
        var outbox = try await outboxCount(runtime.database)
        XCTAssertEqual(outbox, 0)
        XCTAssertTrue(events.withLockedValue { $0 }.isEmpty)

        // Real: alpha of account A only, with reason superseded.
        let result = try await core.bulkRevoke(BulkRevocationFilter(accountID: a1.accountID, domain: "alpha.example.test"),
                                               reason: 4, dryRun: false, by: "tester")
        XCTAssertEqual(result.matched, 1)
        XCTAssertEqual(result.revoked, 1)
        XCTAssertEqual(result.failures, [])
        XCTAssertEqual(result.serials, [])
        revoked = try await revokedRows(runtime.database)
        XCTAssertEqual(revoked, [a1.serial: 4], "b1 holds the name too but belongs to another account")
        outbox = try await outboxCount(runtime.database)
        XCTAssertEqual(outbox, 0, "the CA backend confirmed: the outbox row is settled")
        XCTAssertEqual(settled.withLockedValue { $0 }, ["internal:true"])
        let a1ID = try await certificateID(runtime.database, a1.serial)
        XCTAssertEqual(events.withLockedValue { $0 }, [
            .certificateRevoked(certificateID: a1ID, accountID: a1.accountID,
                                serial: a1.serial, reason: "superseded"),
        ])

        // By serial, as an operator copies it (upper case, colons); the revoked one is skipped.
        let colons = stride(from: 0, to: b1.serial.count, by: 2).map { offset -> String in
            let start = b1.serial.index(b1.serial.startIndex, offsetBy: offset)
            return String(b1.serial[start..<(b1.serial.index(start, offsetBy: 2, limitedBy: b1.serial.endIndex) ?? b1.serial.endIndex)])
        }.joined(separator: ":").uppercased()
        let bySerial = try await core.bulkRevoke(BulkRevocationFilter(serialNumbers: [colons, a1.serial]),
                                                 reason: nil, dryRun: false, by: "tester")
        XCTAssertEqual(bySerial.matched, 1)
        XCTAssertEqual(bySerial.revoked, 1)
        revoked = try await revokedRows(runtime.database)
        XCTAssertEqual(revoked, [a1.serial: 4, b1.serial: -1], "b1 revoked without a reason; a2 untouched")
        XCTAssertEqual(settled.withLockedValue { $0 }, ["internal:true", "internal:true"])
        XCTAssertEqual(events.withLockedValue { $0 }.count, 2)

        // The same filter again: nothing left to revoke.
        let again = try await core.bulkRevoke(BulkRevocationFilter(domain: "alpha.example.test"), reason: 1, dryRun: false, by: "t")
        XCTAssertEqual(again.matched, 0)
        XCTAssertEqual(again.revoked, 0)
        await runtime.close()
    }

    // MARK: - Helpers

    func assertProblem(_ type: ProblemType, _ body: () async throws -> Void, line: UInt = #line) async {
        do {
            try await body()
            XCTFail("expected a \(type) problem", line: line)
        } catch let problem as Problem {
            XCTAssertEqual(problem.type, type, problem.detail, line: line)
        } catch {
            XCTFail("expected a \(type) problem, got \(error)", line: line)
        }
    }

    /// serial → revocation reason (-1: revoked without one) of the revoked certificates.
    func revokedRows(_ database: Database) async throws -> [String: Int] {
        try await database.withConnection { c in
            var rows: [String: Int] = [:]
            for row in try c.query("SELECT serial, revocation_reason FROM certificates WHERE revoked_at IS NOT NULL") {
                rows[try row.string("serial")] = try row.intIfPresent("revocation_reason") ?? -1
            }
            return rows
        }
    }

    func outboxCount(_ database: Database) async throws -> Int {
        try await database.withConnection { try $0.queryFirst("SELECT count(*) AS n FROM revocation_outbox")!.int("n") }
    }

    func certificateID(_ database: Database, _ serial: String) async throws -> UUID {
        try await database.withConnection {
            try $0.queryFirst("SELECT id FROM certificates WHERE serial = $1", [.string(serial)])!.uuid("id")
        }
    }
}
