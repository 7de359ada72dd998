import Foundation
import XCTest

@testable import Host

/// `database.host` in libpq's multi-host form with `database.target_session_attrs`: the
/// conninfo carries both, the keys are read and checked, and a connection passes over a
/// dead first host to the running server (as a failover pair does when its first member is
/// down).
final class DatabaseHostListTests: DatabaseTestCase {
    /// A host entry nobody serves: a socket directory that does not exist, or, for a TCP test
    /// server, a loopback address nothing listens on.
    var deadHost: String {
        testDB.config.host.hasPrefix("/") ? "/nonexistent-acmeeh-socket-dir" : "127.0.0.9"
    }

    func testConninfoCarriesTheHostListAndTargetSessionAttrs() throws {
        var config = testDB.config
        config.host = "/run/postgresql-a,db-b.example.test"
        config.targetSessionAttrs = "read-write"
        let parsed = try XCTUnwrap(Conninfo.parse(Conninfo.build(config)), Conninfo.build(config))
        XCTAssertEqual(parsed["host"], "/run/postgresql-a,db-b.example.test")
        XCTAssertEqual(parsed["port"], String(config.port))
        XCTAssertEqual(parsed["target_session_attrs"], "read-write")
        config.targetSessionAttrs = nil
        XCTAssertNil(Conninfo.parse(Conninfo.build(config))?["target_session_attrs"])
    }

    func testTargetSessionAttrsIsReadAndChecked() throws {
        let base = """
            server:
              external_url: https://acme.example.com
            ca:
              internal:
                root_cert_path: /ca/root.pem
                root_key_path: /ca/root-key.pem
            database:
              database: acmeeh
              user: acmeeh
              host: "db-a.example.test,db-b.example.test"

            """
        let plain = try ConfigLoader.load(yaml: base, source: "test.yaml", environment: [:])
        XCTAssertNil(plain.database.targetSessionAttrs)
        XCTAssertEqual(plain.database.host, "db-a.example.test,db-b.example.test")
        for value in DatabaseConfig.targetSessionAttrValues {
            let yaml = base + "  target_session_attrs: \(value)\n"
            XCTAssertEqual(try ConfigLoader.load(yaml: yaml, source: "test.yaml", environment: [:]).database.targetSessionAttrs,
                           value)
        }
        do {
            _ = try ConfigLoader.load(yaml: base + "  target_session_attrs: master\n", source: "test.yaml", environment: [:])
            XCTFail("target_session_attrs: master was accepted")
        } catch let error as ConfigError {
            XCTAssertTrue(error.problems.contains { "\($0)".contains("database.target_session_attrs") }, "\(error.problems)")
        }
    }

    func testADeadFirstHostIsPassedOver() async throws {
        // Alone, the dead host refuses the connection: the list below really falls through.
        var dead = testDB.config
        dead.host = deadHost
        dead.connectionTimeout = 2
        XCTAssertThrowsError(try Connection(config: dead))

        let db = makeDatabase {
            $0.host = "\(self.deadHost),\($0.host)"
            $0.targetSessionAttrs = "read-write"
        }
        let (name, readOnly) = try await db.withConnection { c in
            let row = try c.queryFirst("SELECT current_database() AS d, current_setting('transaction_read_only') AS ro")!
            return (try row.string("d"), try row.string("ro"))
        }
        XCTAssertEqual(name, testDB.name)
        XCTAssertEqual(readOnly, "off")
    }
}
