import Foundation
@testable import Host
import XCTest

/// The policy side of the admin API as a drop-in for the reference's admin CLI: the real
/// `acmeeh-admin` 1.0.1 drives a real `acmeeh serve` (admin API, CRL publishing, EAB required,
/// per-account allowlists enforced, http-01 on certbot's standalone port) through every
/// command of the eab, identifiers, profiles, certificates and notifications groups, in both
/// output formats where the command prints, each result checked against PostgreSQL — and
/// what the commands mean is checked from certbot's side: the allowlist grants one name and
/// refuses another, a CSR profile refuses a P-256 key at finalize, a bulk revocation reaches
/// the CRL `openssl verify -crl_check` reads (after a dry run that changed nothing), and
/// revoking an EAB credential revokes the account bound with it.
final class AdminPolicyTests: XCTestCase {
    var server: TestServer!
    var walk: AdminCLIWalk!
    var dns: LoopbackDNS!
    var scratch: URL!
    var httpPort = 0

    override func setUpWithError() throws {
        scratch = try TestPaths.temporaryDirectory("acmeeh-admin-policy")
        dns = try LoopbackDNS(directory: scratch)
        httpPort = try ServerProcess.freePort()
        server = try TestServer(extra: AdminAPISetup.section() + """

            crl:
              enabled: true
              rebuild_interval_seconds: 3600
              next_update_seconds: 7200
            acme:
              eab_required: true
            challenges:
              http01:
                port: \(httpPort)
                blocked_networks: []
            dns:
              resolvers: ["\(dns.address)"]
            notifications:
              enabled: false
            security:
              identifier_policy:
                enforce_account_allowlist: true
            """)
        walk = try AdminCLIWalk(server: server)
    }

    override func tearDownWithError() throws {
        if let server, testRun?.hasSucceeded == false { print("--- acmeeh log ---\n\(server.process.log)") }
        server?.shutdown()
        dns?.stop()
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    var root: URL { server.directory.appendingPathComponent("ca/root.pem") }
    let formats = AdminCLI.Format.allCases

    /// `acmeeh-admin --format FORMAT ARGUMENTS`.
    func cli(_ arguments: [String], _ format: AdminCLI.Format = .json) throws -> AdminCLIRun {
        try walk.cli.run(arguments, format: format)
    }

    /// How a boolean prints: JSON `true`, table `True`.
    func shown(_ value: Bool, _ format: AdminCLI.Format) -> String {
        format == .json ? "\(value)" : (value ? "True" : "False")
    }

    func id(_ uuid: UUID) -> String { uuid.uuidString.lowercased() }

    func uuid(_ sql: String, _ params: [PostgresValue?] = []) throws -> UUID {
        try XCTUnwrap(try walk.rows(sql, params).first, sql).uuid("id")
    }

    func testEveryPolicyCommandAndWhatCertbotSees() throws {
        let login = try walk.cli.login(username: "admin", password: walk.password)
        XCTAssertEqual(login.status, 0, "\(login)")

        // MARK: identifiers create, get, list
        var identifierIDs: [String: UUID] = [:]
        for (format, type, value) in [(AdminCLI.Format.json, "dns", "ok.test"), (.table, "dns", "TWO.test"),
                                      (.json, "ip", "192.0.2.10"), (.table, "ip", "2001:db8::10")] {
            let run = try cli(["identifiers", "create", type, value], format)
            XCTAssertEqual(run.status, 0, "\(run)")
            let record = walk.record(run)
            let stored = value.lowercased()
            let row = try XCTUnwrap(try walk.rows("SELECT id, identifier_type FROM admin.allowed_identifiers WHERE identifier_value = $1",
                                                  [.string(stored)]).first, "\(run)")
            XCTAssertEqual(try row.string("identifier_type"), type)
            XCTAssertEqual(record["id"], id(try row.uuid("id")), "\(run)")
            XCTAssertEqual(record["identifier_value"], stored)
            XCTAssertEqual(record["identifier_type"], type)
            identifierIDs[stored] = try row.uuid("id")
            XCTAssertEqual(try walk.details(try walk.audit("identifier.create").last)["value"] as? String, stored)
        }
        for format in formats {
            let loopback = try cli(["identifiers", "create", "ip", "127.0.0.1"], format)
            XCTAssertEqual(loopback.status, 1, "\(loopback)")
            XCTAssertTrue(loopback.stderr.contains("Error [400]: 127.0.0.1 is loopback"), "\(loopback)")
            let taken = try cli(["identifiers", "create", "dns", "ok.test"], format)
            XCTAssertEqual(taken.status, 1, "\(taken)")
            XCTAssertTrue(taken.stderr.contains("Error [409]"), "\(taken)")
        }
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.allowed_identifiers"), 4)
        for format in formats {
            let list = try cli(["identifiers", "list"], format)
            XCTAssertEqual(list.status, 0, "\(list)")
            let rows = walk.list(list)
            XCTAssertEqual(Set(rows.map { $0["id"] ?? "" }), Set(identifierIDs.values.map(id)), "\(list)")
            XCTAssertEqual(Set(rows.map { $0["identifier_value"] ?? "" }), Set(identifierIDs.keys))
            if format == .table {
                XCTAssertEqual(list.tableRows.first.map { Set($0.keys) }, ["id", "identifier_type", "identifier_value", "account_ids"])
            }
            let get = try cli(["identifiers", "get", id(identifierIDs["192.0.2.10"]!)], format)
            XCTAssertEqual(get.status, 0, "\(get)")
            XCTAssertEqual(walk.record(get)["identifier_value"], "192.0.2.10", "\(get)")
            XCTAssertEqual(walk.record(get)["identifier_type"], "ip")
        }
        XCTAssertTrue(try cli(["identifiers", "get", id(UUID())]).stderr.contains("Error [404]"))

        // MARK: eab create, list, get
        var eabIDs: [AdminCLI.Format: UUID] = [:]
        var credentials: [AdminCLI.Format: EABCredential] = [:]
        for format in formats {
            let run = try cli(["eab", "create", "kid-\(format)", "--label", "label \(format)"], format)
            XCTAssertEqual(run.status, 0, "\(run)")
            let record = walk.record(run)
            let row = try XCTUnwrap(try walk.rows("SELECT id, label, revoked, used, hmac_key FROM eab_credentials WHERE kid = $1",
                                                  [.string("kid-\(format)")]).first, "\(run)")
            XCTAssertEqual(record["id"], id(try row.uuid("id")), "\(run)")
            XCTAssertEqual(record["kid"], "kid-\(format)")
            XCTAssertEqual(record["label"], "label \(format)")
            XCTAssertEqual(try row.string("label"), "label \(format)")
            XCTAssertFalse(try row.bool("revoked"))
            let key = try XCTUnwrap(record["hmac_key"], "\(run)")
            XCTAssertEqual(Base64URL.decode(key).map { Data($0) }, Data(try row.bytes("hmac_key")), "the MAC key shown is the stored one")
            eabIDs[format] = try row.uuid("id")
            credentials[format] = EABCredential(kid: "kid-\(format)", hmacKey: key)
        }
        for format in formats {
            let list = try cli(["eab", "list"], format)
            XCTAssertEqual(list.status, 0, "\(list)")
            XCTAssertEqual(Set(walk.list(list).map { $0["id"] ?? "" }), Set(eabIDs.values.map(id)), "\(list)")
            XCTAssertFalse(list.stdout.contains(credentials[.json]!.hmacKey), "the MAC key is shown once")
            if format == .table {
                XCTAssertEqual(list.tableRows.first.map { Set($0.keys) }, ["id", "kid", "label", "revoked", "used", "created_at"])
            }
            let get = try cli(["eab", "get", id(eabIDs[format]!)], format)
            XCTAssertEqual(get.status, 0, "\(get)")
            XCTAssertEqual(walk.record(get)["kid"], "kid-\(format)", "\(get)")
            XCTAssertEqual(walk.record(get)["revoked"], shown(false, format))
            XCTAssertNil(walk.record(get)["hmac_key"])
        }

        // MARK: eab add-identifier, list-identifiers, remove-identifier
        let tableEAB = id(eabIDs[.table]!)
        for (format, value) in [(AdminCLI.Format.json, "192.0.2.10"), (.table, "2001:db8::10")] {
            let run = try cli(["eab", "add-identifier", tableEAB, id(identifierIDs[value]!)], format)
            XCTAssertEqual(run.stdout, "OK\n", "\(run)")
        }
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.eab_allowed_identifiers WHERE eab_id = '\(tableEAB)'"), 2)
        for format in formats {
            let run = try cli(["eab", "list-identifiers", tableEAB], format)
            XCTAssertEqual(run.status, 0, "\(run)")
            XCTAssertEqual(Set(walk.list(run).map { $0["identifier_value"] ?? "" }), ["192.0.2.10", "2001:db8::10"], "\(run)")
        }
        let removed = try cli(["eab", "remove-identifier", tableEAB, id(identifierIDs["2001:db8::10"]!)], .table)
        XCTAssertEqual(removed.stdout, "OK\n", "\(removed)")
        XCTAssertEqual(try walk.rows("""
            SELECT i.identifier_value FROM admin.eab_allowed_identifiers e JOIN admin.allowed_identifiers i ON i.id = e.identifier_id
            WHERE e.eab_id = '\(tableEAB)'
            """).map { try $0.string("identifier_value") }, ["192.0.2.10"])
        XCTAssertEqual(walk.list(try cli(["eab", "list-identifiers", tableEAB])).map { $0["identifier_value"] ?? "" }, ["192.0.2.10"])
        let again = try cli(["eab", "remove-identifier", tableEAB, id(identifierIDs["2001:db8::10"]!)], .table)
        XCTAssertTrue(again.stderr.contains("Error [404]"), "\(again)")

        // MARK: profiles create, list, get, update, validate
        let strong = #"{"authorized_keys": {"EC.secp384r1": 384}}"#
        var profileIDs: [AdminCLI.Format: UUID] = [:]
        for format in formats {
            let run = try cli(["profiles", "create", "p384-\(format)", strong, "--description", "P-384 only"], format)
            XCTAssertEqual(run.status, 0, "\(run)")
            let row = try XCTUnwrap(try walk.rows("SELECT id, description, profile_data::text AS data FROM admin.csr_profiles WHERE name = $1",
                                                  [.string("p384-\(format)")]).first, "\(run)")
            XCTAssertEqual(walk.record(run)["id"], id(try row.uuid("id")), "\(run)")
            XCTAssertEqual(walk.record(run)["name"], "p384-\(format)")
            XCTAssertEqual(try row.string("description"), "P-384 only")
            XCTAssertEqual(try row.string("data"), #"{"authorized_keys": {"EC.secp384r1": 384}}"#)
            profileIDs[format] = try row.uuid("id")
        }
        let invalid = try cli(["profiles", "create", "bad", #"{"authorized_keys": {"DSA": 1024}}"#], .table)
        XCTAssertEqual(invalid.status, 1, "\(invalid)")
        XCTAssertTrue(invalid.stderr.contains("Error [400]: profile_data:"), "\(invalid)")
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.csr_profiles"), 2)
        for format in formats {
            let list = try cli(["profiles", "list"], format)
            XCTAssertEqual(list.status, 0, "\(list)")
            XCTAssertEqual(Set(walk.list(list).map { $0["name"] ?? "" }), ["p384-json", "p384-table"], "\(list)")
            if format == .table {
                XCTAssertEqual(list.tableRows.first.map { Set($0.keys) }, ["id", "name", "description", "created_at"])
            }
            let get = try cli(["profiles", "get", id(profileIDs[format]!)], format)
            XCTAssertEqual(walk.record(get)["name"], "p384-\(format)", "\(get)")
            XCTAssertTrue(walk.record(get)["profile_data"]?.contains("EC.secp384r1") == true, "\(get)")
            let update = try cli(["profiles", "update", id(profileIDs[format]!), "p384-\(format)", strong,
                                  "--description", "updated \(format)"], format)
            XCTAssertEqual(update.status, 0, "\(update)")
            XCTAssertEqual(walk.record(update)["description"], "updated \(format)", "\(update)")
            XCTAssertEqual(try walk.rows("SELECT description FROM admin.csr_profiles WHERE id = $1", [.uuid(profileIDs[format]!)])
                            .first?.string("description"), "updated \(format)")
        }
        XCTAssertEqual(try walk.audit("csr_profile.update").count, 2)
        let weakCSR = try makeCSR(curve: "P-256", name: "ok.test")
        let strongCSR = try makeCSR(curve: "P-384", name: "ok.test")
        for format in formats {
            let weak = try cli(["profiles", "validate", id(profileIDs[.json]!), weakCSR], format)
            XCTAssertEqual(weak.status, 0, "\(weak)")
            XCTAssertEqual(walk.record(weak)["valid"], shown(false, format), "\(weak)")
            XCTAssertTrue(weak.stdout.contains("authorized_keys: key type EC.secp256r1 is not allowed (allowed: EC.secp384r1)"), "\(weak)")
            let good = try cli(["profiles", "validate", id(profileIDs[.json]!), strongCSR], format)
            XCTAssertEqual(walk.record(good)["valid"], shown(true, format), "\(good)")
            XCTAssertFalse(good.stdout.contains("authorized_keys"), "\(good)")
        }

        // MARK: eab assign-profile, get-profile, unassign-profile
        XCTAssertEqual(try cli(["eab", "assign-profile", tableEAB, id(profileIDs[.table]!)], .table).stdout, "OK\n")
        XCTAssertEqual(try walk.rows("SELECT profile_id AS id FROM admin.eab_csr_profiles WHERE eab_id = '\(tableEAB)'")
                        .first?.uuid("id"), profileIDs[.table])
        for format in formats {
            let get = try cli(["eab", "get-profile", tableEAB], format)
            XCTAssertEqual(walk.record(get)["name"], "p384-table", "\(get)")
        }
        XCTAssertEqual(try cli(["eab", "unassign-profile", tableEAB], .json).stdout, "OK\n")
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.eab_csr_profiles"), 0)
        XCTAssertEqual(try cli(["eab", "unassign-profile", tableEAB], .table).stdout,
                       "No CSR profile assigned to this EAB credential.\n")
        XCTAssertEqual(try cli(["eab", "get-profile", tableEAB], .json).stdout, "null\n")
        XCTAssertEqual(try cli(["eab", "get-profile", tableEAB], .table).stdout, "None\n")

        // MARK: certbot registers with EAB; the allowlist grants ok.test and two.test, not no.test
        // certbot 5: Debian's 2.1 on Python 3.11 dies on any ACME error with "AttributeError:
        // can't set attribute" (certbot issue 9539), hiding the problem the refusals must show.
        let certbot = try Certbot(.venv5, endpoint: ACMEEndpoint(directoryURL: server.directoryURL), httpPort: httpPort,
                                  directory: scratch.appendingPathComponent("certbot"))
        let withoutEAB = try certbot.register()
        XCTAssertNotEqual(withoutEAB.status, 0, "EAB is required: \(withoutEAB)")
        let registered = try certbot.register(eab: credentials[.json]!)
        XCTAssertEqual(registered.status, 0, "\(registered)\n\(certbot.debugLog)")
        let account = try uuid("SELECT id FROM accounts WHERE eab_kid = 'kid-json' AND status = 'valid'")
        for (format, value) in [(AdminCLI.Format.json, "ok.test"), (.table, "two.test")] {
            let run = try cli(["identifiers", "add-account", id(identifierIDs[value]!), id(account)], format)
            XCTAssertEqual(run.stdout, "Account associated.\n", "\(run)")
        }
        func allowlist() throws -> [String] {
            try walk.rows("""
                SELECT i.identifier_value FROM admin.account_allowed_identifiers a
                JOIN admin.allowed_identifiers i ON i.id = a.identifier_id WHERE a.account_id = $1 ORDER BY 1
                """, [.uuid(account)]).map { try $0.string("identifier_value") }
        }
        XCTAssertEqual(try allowlist(), ["ok.test", "two.test"])
        for format in formats {
            let run = try cli(["identifiers", "list-for-account", id(account)], format)
            XCTAssertEqual(run.status, 0, "\(run)")
            XCTAssertEqual(Set(walk.list(run).map { $0["identifier_value"] ?? "" }), ["ok.test", "two.test"], "\(run)")
            let get = try cli(["identifiers", "get", id(identifierIDs["ok.test"]!)], format)
            XCTAssertTrue(walk.record(get)["account_ids"]?.contains(id(account)) == true, "\(get)")
        }
        let ok = try certbot.certonly(names: ["ok.test"], keyType: .ecdsa, certName: "ok")
        let okFiles = try XCTUnwrap(assertIssued(ok, dns: ["ok.test"], keyAlgorithm: "EC", root: root), certbot.debugLog)
        let two = try certbot.certonly(names: ["two.test"], keyType: .rsa, certName: "two")
        let twoFiles = try XCTUnwrap(assertIssued(two, dns: ["two.test"], keyAlgorithm: "RSA", root: root), certbot.debugLog)
        let refused = try certbot.certonly(names: ["no.test"], certName: "no")
        XCTAssertNotEqual(refused.status, 0, "\(refused)")
        XCTAssertTrue(refused.output.contains("no.test is not on this account's allowlist"), "\(refused)")
        XCTAssertTrue((refused.output + certbot.debugLog).contains("rejectedIdentifier"), certbot.debugLog)
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM orders WHERE account_id = '\(id(account))'"), 2,
                       "the refused order was not created")

        let unlinked = try cli(["identifiers", "remove-account", id(identifierIDs["two.test"]!), id(account)], .table)
        XCTAssertEqual(unlinked.stdout, "Account removed.\n", "\(unlinked)")
        XCTAssertEqual(try allowlist(), ["ok.test"])
        XCTAssertEqual(walk.list(try cli(["identifiers", "list-for-account", id(account)], .table)).map { $0["identifier_value"] ?? "" },
                       ["ok.test"])
        XCTAssertTrue(try cli(["identifiers", "remove-account", id(identifierIDs["two.test"]!), id(account)]).stderr
                        .contains("Error [404]"))

        // MARK: profiles assign-account, get-for-account, unassign-account; certbot's P-256 key refused at finalize
        XCTAssertEqual(try cli(["profiles", "get-for-account", id(account)], .table).stdout, "No profile assigned.\n")
        let assigned = try cli(["profiles", "assign-account", id(profileIDs[.json]!), id(account)], .table)
        XCTAssertEqual(assigned.stdout, "Profile assigned.\n", "\(assigned)")
        XCTAssertEqual(try walk.rows("SELECT profile_id AS id FROM admin.account_csr_profiles WHERE account_id = $1", [.uuid(account)])
                        .first?.uuid("id"), profileIDs[.json])
        for format in formats {
            let get = try cli(["profiles", "get-for-account", id(account)], format)
            XCTAssertEqual(walk.record(get)["id"], id(profileIDs[.json]!), "\(get)")
            XCTAssertEqual(walk.record(get)["name"], "p384-json")
        }
        let weak = try certbot.certonly(names: ["ok.test"], keyType: .ecdsa, certName: "ok-p256")
        XCTAssertNotEqual(weak.status, 0, "\(weak)")
        let said = weak.output + certbot.debugLog
        XCTAssertTrue(said.contains("badCSR"), "\(weak)\n\(certbot.debugLog)")
        XCTAssertTrue(weak.output.contains("authorized_keys: key type EC.secp256r1 is not allowed (allowed: EC.secp384r1)"), "\(weak)")
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM certificates"), 2, "no certificate for the weak key")
        let unassigned = try cli(["profiles", "unassign-account", id(profileIDs[.json]!), id(account)], .table)
        XCTAssertEqual(unassigned.stdout, "Profile unassigned.\n", "\(unassigned)")
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.account_csr_profiles"), 0)
        XCTAssertEqual(try cli(["profiles", "get-for-account", id(account)], .json).stdout, "No profile assigned.\n")

        // MARK: certificates search, get, get-by-fingerprint
        let okCert = try certificateRow(okFiles.certificate)
        let twoCert = try certificateRow(twoFiles.certificate)
        for format in formats {
            func serials(_ arguments: [String]) throws -> Set<String> {
                let run = try cli(["certificates", "search"] + arguments, format)
                XCTAssertEqual(run.status, 0, "\(run)")
                if format == .table, !run.tableRows.isEmpty {
                    XCTAssertEqual(Set(run.tableRows[0].keys), ["serial_number", "san_values", "not_after", "revoked_at"])
                }
                return Set(walk.list(run).map { $0["serial_number"] ?? "" })
            }
            XCTAssertEqual(try serials([]), [okCert.serial, twoCert.serial])
            XCTAssertEqual(try serials(["--domain", "ok.test"]), [okCert.serial])
            XCTAssertEqual(try serials(["--status", "active"]), [okCert.serial, twoCert.serial])
            XCTAssertEqual(try serials(["--status", "revoked"]), [])
            XCTAssertEqual(try serials(["--account-id", id(account)]), [okCert.serial, twoCert.serial])
            XCTAssertEqual(try serials(["--account-id", id(UUID())]), [])
            XCTAssertEqual(try serials(["--serial", twoCert.serial]), [twoCert.serial])
            XCTAssertEqual(try serials(["--domain", "two.test", "--status", "active"]), [twoCert.serial])

            let get = try cli(["certificates", "get", okCert.serial], format)
            XCTAssertEqual(get.status, 0, "\(get)")
            XCTAssertEqual(walk.record(get)["fingerprint"], okCert.fingerprint, "\(get)")
            XCTAssertEqual(walk.record(get)["account_id"], id(account))
            XCTAssertEqual(walk.record(get)["status"], "active")
            let byFingerprint = try cli(["certificates", "get-by-fingerprint", twoCert.fingerprint], format)
            XCTAssertEqual(walk.record(byFingerprint)["serial_number"], twoCert.serial, "\(byFingerprint)")
            XCTAssertTrue(walk.record(byFingerprint)["san_values"]?.contains("two.test") == true, "\(byFingerprint)")
        }
        XCTAssertTrue(try cli(["certificates", "get", "abcdef0123"]).stderr.contains("Error [404]"))

        // MARK: certificates bulk-revoke: the dry run changes nothing, the real one reaches the CRL
        let crl = CRLFetcher(baseURL: server.baseURL, directory: scratch)
        let before = try crl.fetch { _ in true }
        XCTAssertEqual(try crl.verify(okFiles, crl: before.pem, root: root).status, 0)
        let okFilter = #"{"serial_numbers": ["\#(okCert.serial)"]}"#
        for format in formats {
            let dry = try cli(["certificates", "bulk-revoke", okFilter, "--reason", "1", "--dry-run"], format)
            XCTAssertEqual(dry.status, 0, "\(dry)")
            XCTAssertEqual(walk.record(dry)["dry_run"], shown(true, format), "\(dry)")
            XCTAssertEqual(walk.record(dry)["matching_certificates"], "1", "\(dry)")
            XCTAssertTrue(walk.record(dry)["serial_numbers"]?.contains(okCert.serial) == true, "\(dry)")
        }
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM certificates WHERE revoked_at IS NOT NULL"), 0, "a dry run revokes nothing")
        XCTAssertEqual(try walk.details(try walk.audit("certificates.bulk_revoke").last)["dry_run"] as? Bool, true)
        XCTAssertFalse(try crl.fetch { _ in true }.text.contains("Serial Number:"), "nothing on the CRL after the dry runs")

        let revoke = try cli(["certificates", "bulk-revoke", okFilter, "--reason", "1"], .json)
        XCTAssertEqual(revoke.status, 0, "\(revoke)")
        XCTAssertEqual(revoke.object?["revoked"] as? Int, 1, "\(revoke)")
        XCTAssertEqual(revoke.object?["total_matched"] as? Int, 1)
        XCTAssertEqual(try revocation(okCert.serial), 1)
        XCTAssertNil(try revocation(twoCert.serial))
        let after = try crl.fetch { CRLFetcher.lists($0, serial: okCert.serial) }
        XCTAssertTrue(after.text.contains("Key Compromise"), after.text)
        let verify = try crl.verify(okFiles, crl: after.pem, root: root)
        XCTAssertNotEqual(verify.status, 0, "\(verify.stdout)\(verify.stderr)")
        XCTAssertTrue((verify.stdout + verify.stderr).contains("certificate revoked"), verify.stdout + verify.stderr)

        let byDomain = try cli(["certificates", "bulk-revoke", #"{"domain": "two.test"}"#, "--reason", "4"], .table)
        XCTAssertEqual(byDomain.status, 0, "\(byDomain)")
        XCTAssertEqual(walk.record(byDomain)["revoked"], "1", "\(byDomain)")
        XCTAssertEqual(walk.record(byDomain)["dry_run"], "False")
        XCTAssertEqual(try revocation(twoCert.serial), 4)
        XCTAssertEqual(try revocation(okCert.serial), 1, "the first stays as it was")
        let both = try crl.fetch { CRLFetcher.lists($0, serial: twoCert.serial) }
        XCTAssertTrue(CRLFetcher.lists(both.text, serial: okCert.serial))
        XCTAssertNotEqual(try crl.verify(twoFiles, crl: both.pem, root: root).status, 0)
        for format in formats {
            let revoked = try cli(["certificates", "search", "--status", "revoked"], format)
            XCTAssertEqual(Set(walk.list(revoked).map { $0["serial_number"] ?? "" }), [okCert.serial, twoCert.serial], "\(revoked)")
            let get = try cli(["certificates", "get", twoCert.serial], format)
            XCTAssertEqual(walk.record(get)["status"], "revoked", "\(get)")
            XCTAssertEqual(walk.record(get)["revocation_reason"], "superseded", "\(get)")
        }
        let noFilter = try cli(["certificates", "bulk-revoke", "{}", "--dry-run"], .table)
        XCTAssertEqual(noFilter.status, 1, "\(noFilter)")
        XCTAssertTrue(noFilter.stderr.contains("Error [400]: the filter needs at least one of"), "\(noFilter)")

        // MARK: notifications list, retry, purge (rows arranged in SQL; delivery is off)
        try insertNotification("failed", ageDays: 40, account: account)
        try insertNotification("failed", ageDays: 1, account: account)
        try insertNotification("sent", ageDays: 40, account: account)
        try insertNotification("sent", ageDays: 2, account: account)
        try insertNotification("unsent", ageDays: 45, account: nil)
        try insertNotification("pending", ageDays: 50, account: nil)
        for format in formats {
            let list = try cli(["notifications", "list"], format)
            XCTAssertEqual(list.status, 0, "\(list)")
            let ids = try walk.rows("SELECT id FROM notifications").map { id(try $0.uuid("id")) }
            XCTAssertEqual(Set(walk.list(list).map { $0["id"] ?? "" }), Set(ids), "\(list)")
            let failed = try cli(["notifications", "list", "--status", "failed"], format)
            XCTAssertEqual(walk.list(failed).count, 2, "\(failed)")
            XCTAssertEqual(Set(walk.list(failed).map { $0["status"] ?? "" }), ["failed"])
            XCTAssertEqual(Set(walk.list(failed).map { $0["subject"] ?? "" }), ["failed notice"])
        }
        let retried = try cli(["notifications", "retry"], .json)
        XCTAssertEqual(retried.object?["retried"] as? Int, 2, "\(retried)")
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM notifications WHERE status = 'failed'"), 0)
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM notifications WHERE subject = 'failed notice' AND attempts = 0"), 2)
        XCTAssertEqual(walk.record(try cli(["notifications", "retry"], .table))["retried"], "0")
        XCTAssertEqual(try walk.details(try walk.audit("notifications.retry").last)["retried"] as? Int, 0)
        let purged = try cli(["notifications", "purge", "--days", "30"], .table)
        XCTAssertEqual(walk.record(purged)["purged"], "2", "\(purged): the old sent and unsent ones")
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM notifications"), 4)
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM notifications WHERE status = 'sent' AND created_at < now() - interval '30 days'"), 0)
        XCTAssertEqual(try cli(["notifications", "purge"], .json).object?["purged"] as? Int, 0)
        let sooner = try cli(["notifications", "purge", "--days", "1"], .json)
        XCTAssertEqual(sooner.object?["purged"] as? Int, 1, "\(sooner): the sent one of 2 days ago")

        // MARK: identifiers delete, profiles delete
        for (format, value) in [(AdminCLI.Format.json, "192.0.2.10"), (.table, "2001:db8::10")] {
            let refusedWithoutYes = try cli(["identifiers", "delete", id(identifierIDs[value]!)], format)
            XCTAssertNotEqual(refusedWithoutYes.status, 0, "\(refusedWithoutYes)")
            XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.allowed_identifiers WHERE identifier_value = '\(value)'"), 1)
            let deleted = try cli(["identifiers", "delete", id(identifierIDs[value]!), "--yes"], format)
            XCTAssertEqual(deleted.stdout, "Identifier deleted.\n", "\(deleted)")
            XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.allowed_identifiers WHERE identifier_value = '\(value)'"), 0)
        }
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.eab_allowed_identifiers"), 0, "the link went with it")
        for format in formats {
            let deleted = try cli(["profiles", "delete", id(profileIDs[format]!), "--yes"], format)
            XCTAssertEqual(deleted.stdout, "Profile deleted.\n", "\(deleted)")
        }
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.csr_profiles"), 0)
        XCTAssertEqual(try walk.audit("csr_profile.delete").count, 2)

        // MARK: eab revoke: the bound account is revoked with it, and certbot can no longer order
        let revokedEAB = try cli(["eab", "revoke", id(eabIDs[.json]!)], .json)
        XCTAssertEqual(revokedEAB.status, 0, "\(revokedEAB)")
        XCTAssertEqual(revokedEAB.object?["revoked"] as? Bool, true, "\(revokedEAB)")
        XCTAssertEqual(revokedEAB.object?["used"] as? Bool, true)
        XCTAssertEqual(revokedEAB.object?["account_id"] as? String, id(account))
        XCTAssertEqual(try walk.rows("SELECT status FROM accounts WHERE id = $1", [.uuid(account)]).first?.string("status"), "revoked")
        XCTAssertTrue(try XCTUnwrap(try walk.rows("SELECT revoked FROM eab_credentials WHERE kid = 'kid-json'").first).bool("revoked"))
        let audited = try walk.details(try walk.audit("eab.revoke").last)
        XCTAssertEqual(audited["revoked_accounts"] as? [String], [id(account)])
        let tableRevoke = try cli(["eab", "revoke", tableEAB], .table)
        XCTAssertEqual(walk.record(tableRevoke)["revoked"], "True", "\(tableRevoke)")
        XCTAssertEqual(Set(walk.list(try cli(["eab", "list"], .table)).map { $0["revoked"] ?? "" }), ["True"])
        let afterRevoke = try certbot.certonly(names: ["ok.test"], certName: "ok-again")
        XCTAssertNotEqual(afterRevoke.status, 0, "\(afterRevoke)")
        XCTAssertTrue((afterRevoke.output + certbot.debugLog).contains("unauthorized"), "\(afterRevoke)\n\(certbot.debugLog)")
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM certificates"), 2)
        let reuse = try Certbot(.venv5, endpoint: ACMEEndpoint(directoryURL: server.directoryURL), httpPort: httpPort,
                                directory: scratch.appendingPathComponent("certbot-reuse")).register(eab: credentials[.table]!)
        XCTAssertNotEqual(reuse.status, 0, "a revoked credential binds no new account: \(reuse)")
        XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM accounts"), 1)
    }

    // MARK: - helpers

    /// A CSR for `name` with a new EC key on `curve`, as base64 DER (what `profiles validate` takes).
    func makeCSR(curve: String, name: String) throws -> String {
        let key = scratch.appendingPathComponent("csr-\(curve).key"), der = scratch.appendingPathComponent("csr-\(curve).der")
        let made = try TimedCommand.run("/usr/bin/openssl", [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:\(curve)", "-nodes", "-keyout", key.path,
            "-subj", "/CN=\(name)", "-addext", "subjectAltName=DNS:\(name)", "-outform", "DER", "-out", der.path,
        ], timeout: 30)
        XCTAssertEqual(made.status, 0, made.stderr)
        return try Data(contentsOf: der).base64EncodedString()
    }

    /// The stored serial and fingerprint of the certificate in `file`.
    func certificateRow(_ file: URL) throws -> (serial: String, fingerprint: String) {
        let fingerprint = try CertificateCheck.fingerprint(file).split(separator: "=").last.map(String.init)?
            .replacingOccurrences(of: ":", with: "").lowercased() ?? ""
        let row = try XCTUnwrap(try walk.rows("SELECT serial FROM certificates WHERE fingerprint = $1", [.string(fingerprint)]).first,
                                "no certificate with fingerprint \(fingerprint)")
        return (try row.string("serial"), fingerprint)
    }

    /// The stored revocation reason (nil: not revoked).
    func revocation(_ serial: String) throws -> Int? {
        let row = try XCTUnwrap(try walk.rows("SELECT revoked_at IS NOT NULL AS revoked, revocation_reason FROM certificates WHERE serial = $1",
                                              [.string(serial)]).first)
        return try row.bool("revoked") ? (try row.intIfPresent("revocation_reason") ?? -1) : nil
    }

    func insertNotification(_ status: String, ageDays: Int, account: UUID?) throws {
        _ = try server.sql {
            try $0.execute("""
                INSERT INTO notifications (id, type, account_id, recipients, subject, body_text, body_html, status, attempts,
                                           last_error, created_at, sent_at)
                VALUES ($1, 'delivery_succeeded', $2, ARRAY['ops@example.test'], $3, 'text', '<p>html</p>', $4, $5, $6,
                        now() - make_interval(days => $7::int), CASE WHEN $4 = 'sent' THEN now() END)
                """, [.uuid(UUID()), account.map { PostgresValue.uuid($0) }, .string("\(status) notice"), .string(status),
                      .int(status == "failed" ? 3 : 0), status == "failed" ? PostgresValue.string("connection refused") : nil,
                      .int(ageDays)])
        }
    }
}

/// The CRL `GET /crl` serves, polled until it is what a check wants, as PEM and as text.
struct CRLFetcher {
    let baseURL: String
    let directory: URL

    func fetch(timeout: TimeInterval = 15, until wanted: (String) -> Bool) throws -> (pem: URL, text: String) {
        let der = directory.appendingPathComponent("crl.der"), pem = directory.appendingPathComponent("crl.pem")
        let end = Date().addingTimeInterval(timeout)
        var last = ""
        repeat {
            let response = try HTTP.get(baseURL + "/crl")
            if response.status == 200 {
                try response.body.write(to: der)
                last = try TimedCommand.run("/usr/bin/openssl", ["crl", "-inform", "DER", "-in", der.path, "-noout", "-text"],
                                            timeout: 30).stdout
                if wanted(last) {
                    _ = try TimedCommand.run("/usr/bin/openssl", ["crl", "-inform", "DER", "-in", der.path, "-out", pem.path],
                                             timeout: 30)
                    return (pem, last)
                }
            }
            Thread.sleep(forTimeInterval: 0.3)
        } while Date() < end
        throw CLIFailure("the CRL did not become what was wanted within \(timeout) s; last:\n\(last)")
    }

    /// Whether the CRL's text lists `serial` (hex, any leading zeros).
    static func lists(_ text: String, serial: String) -> Bool {
        func number(_ hex: String) -> String { String(hex.uppercased().drop { $0 == "0" }) }
        return text.components(separatedBy: "Serial Number: ").dropFirst()
            .map { number(String($0.prefix { $0 != "\n" }).replacingOccurrences(of: ":", with: "")) }
            .contains(number(serial))
    }

    /// `openssl verify -crl_check` of the certificate (with its chain) against `crl`.
    func verify(_ files: CertificateFiles, crl: URL, root: URL) throws -> CommandResult {
        var arguments = ["verify", "-crl_check", "-CAfile", root.path, "-CRLfile", crl.path]
        if let chain = try? String(contentsOf: files.chain, encoding: .utf8), chain.contains("BEGIN CERTIFICATE") {
            arguments += ["-untrusted", files.chain.path]
        }
        return try TimedCommand.run("/usr/bin/openssl", arguments + [files.certificate.path], timeout: 30)
    }
}
