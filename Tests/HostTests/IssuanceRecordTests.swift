import Foundation
import Logging
import XCTest

@testable import Host

/// The batch that records an issued certificate survives the loss of its connection: the
/// order is read again on a new one and the record sent once more, so the certificate is
/// recorded exactly once and the order ends valid.
final class IssuanceRecordTests: DatabaseTestCase {
    func testConnectionLostBeforeTheRecordIsRecoveredOnANewOne() async throws {
        let config = testDB.config
        let db = makeDatabase { $0.minConnections = 1; $0.maxConnections = 1 }
        try await db.start()
        _ = try await Migrator(database: db).migrate()
        let (accountID, orderID) = try await db.withConnection { c -> (UUID, UUID) in
            let account = try c.insertAccount(jwk: #"{"kty":"EC"}"#, thumbprint: "t", contacts: [],
                                              termsOfServiceAgreed: true, eabKID: nil)
            let order = UUID()
            _ = try c.runBatch([.insertOrder(
                id: order, accountID: account.id, identifiers: [Identifier(type: "dns", value: "a.example.test")],
                identifiersHash: "h", status: .processing, expires: Date().addingTimeInterval(3600), notBefore: nil,
                notAfter: nil, profile: nil, replaces: nil)])
            return (account.id, order)
        }
        // The pool's one connection dies before the record goes out.
        let pid = try await db.withConnection { $0.backendPID }
        let killer = try Connection(config: config)
        defer { killer.close() }
        XCTAssertEqual(try killer.query("SELECT pg_terminate_backend($1::int, 5000) AS ok", [.int(Int(pid))]).first?.bool("ok"), true)

        let certificateID = UUID()
        let record: [BatchStatement] = [
            .insertCertificate(id: certificateID, accountID: accountID, orderID: orderID, serial: "0a", fingerprint: String(repeating: "f", count: 64),
                               pemChain: "-", notBefore: Date(), notAfter: Date().addingTimeInterval(86_400),
                               publicKeyFingerprint: String(repeating: "e", count: 64), sanValues: ["a.example.test"], caBackend: "internal"),
            .setOrderCertificate(orderID, certificateID: certificateID),
            .order(id: orderID),
        ]
        let order = try await IssuanceRecord(database: db, logger: Logger(label: "test")).send(record, orderID: orderID)
        XCTAssertEqual(order.status, .valid)
        XCTAssertEqual(order.certificateID, certificateID)
        XCTAssertEqual(try killer.query("SELECT count(*) AS n FROM certificates").first?.int("n"), 1)
        let newPID = try await db.withConnection { $0.backendPID }
        XCTAssertNotEqual(newPID, pid, "a new connection")

        // Sent again (as after a commit whose answer was lost): the unique certificate refuses
        // a second row, and the order stays valid with the first.
        do {
            _ = try await IssuanceRecord(database: db, logger: Logger(label: "test")).send(record, orderID: orderID)
            XCTFail("a second record of the same certificate was accepted")
        } catch let error as StoreError {
            XCTAssertEqual(error.sqlState, "23505", "\(error)")
        }
        XCTAssertEqual(try killer.query("SELECT count(*) AS n FROM certificates").first?.int("n"), 1)
    }
}
