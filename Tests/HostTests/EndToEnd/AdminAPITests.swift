import Foundation
@testable import Host
import XCTest

/// The admin API as a drop-in for the reference's admin CLI: the real `acmeeh-admin` 1.0.1
/// drives a real `acmeeh serve` (admin API on, CRL publishing on, private database) through
/// every command the API serves so far — login, logout, users, audit, maintenance, crl —
/// in both output formats where the command prints something, and each result is checked
/// against PostgreSQL. Passwords are shown only where they must be: the bootstrap line once,
/// the answers to create and reset; the server's log never holds another, and `admin.users`
/// holds bcrypt hashes only.
///
/// The commands are lists of `AdminCLIStep`s, one list per command group; a new group
/// (eab, identifiers, profiles, certificates, notifications) is one more list in `steps`.
final class AdminAPITests: XCTestCase {
    var server: TestServer!
    var walk: AdminCLIWalk!

    override func setUpWithError() throws {
        server = try TestServer(extra: AdminAPISetup.section() + """

            crl:
              enabled: true
              rebuild_interval_seconds: 3600
              next_update_seconds: 7200
            """)
        walk = try AdminCLIWalk(server: server)
    }

    override func tearDownWithError() throws {
        server?.shutdown()
        if let home = walk?.cli.home { try? FileManager.default.removeItem(at: home) }
    }

    /// Every group, in the order they run (later groups use what earlier ones made).
    static var steps: [AdminCLIStep] {
        loginSteps + userSteps + auditSteps + maintenanceSteps + crlSteps + logoutSteps
    }

    func testEveryCommandOfTheReferenceCLI() throws {
        for step in Self.steps {
            try walk.perform(step)
        }
        try walk.assertPasswordsStayedSecret()
    }
}

// MARK: - the steps

extension AdminAPITests {
    static var loginSteps: [AdminCLIStep] { [
        AdminCLIStep(name: "login with a wrong password", formats: [.table], arguments: { _, _ in ["login"] },
                     input: { _ in "admin\nnot-the-password\n" }) { walk, run in
            XCTAssertEqual(run.status, 1, "\(run)")
            XCTAssertTrue(run.stderr.contains("Login failed [401]: invalid username or password"), "\(run)")
            XCTAssertNil(walk.cli.savedToken)
            let failed = try walk.audit("auth.login_failed")
            XCTAssertEqual(failed.count, 1)
            XCTAssertEqual(try failed.first?.stringIfPresent("ip_address"), "127.0.0.1")
            XCTAssertEqual(try failed.first?.uuidIfPresent("user_id"), walk.adminID)
            XCTAssertEqual(try walk.details(failed.first)["username"] as? String, "admin")
            XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.login_failures WHERE username = 'admin' AND ip_address = '127.0.0.1'"), 1)
        },
        AdminCLIStep(name: "login", formats: [.table], arguments: { _, _ in ["login"] },
                     input: { walk in "admin\n\(walk.password)\n" }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            // The Username prompt goes to stdout, the Password prompt (getpass) to stderr.
            XCTAssertEqual(run.stdout, "Username: Logged in as admin\n", "\(run)")
            XCTAssertFalse(run.stdout.contains(walk.password) || run.stderr.contains(walk.password), "the CLI echoed the password")
            let saved = walk.cli.savedConfig
            XCTAssertEqual(saved["server_url"] as? String, walk.server.baseURL)
            XCTAssertEqual(saved["api_prefix"] as? String, "/api")
            XCTAssertNotNil(walk.cli.savedToken)
            let logins = try walk.audit("auth.login")
            XCTAssertEqual(logins.count, 1)
            XCTAssertEqual(try logins.first?.uuidIfPresent("user_id"), walk.adminID)
            XCTAssertEqual(try logins.first?.stringIfPresent("ip_address"), "127.0.0.1")
            XCTAssertNotNil(try walk.user("admin")?.dateIfPresent("last_login_at"))
            XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.login_failures"), 0, "a success clears the failures")
        },
    ] }

    static var userSteps: [AdminCLIStep] { [
        AdminCLIStep(name: "users me", arguments: { _, _ in ["users", "me"] }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let shown = walk.record(run)
            XCTAssertEqual(shown["id"], walk.adminID.uuidString.lowercased(), "\(run)")
            XCTAssertEqual(shown["username"], "admin")
            XCTAssertEqual(shown["email"], AdminAPISetup.initialAdminEmail)
            XCTAssertEqual(shown["role"], "admin")
            XCTAssertEqual(shown["enabled"], run.format == .json ? "true" : "True")
            XCTAssertNil(shown["password"])
            XCTAssertNil(shown["password_hash"])
        },
        AdminCLIStep(name: "users create", arguments: { _, format in
            ["users", "create", "op-\(format)", "op-\(format)@example.test", "--role", "auditor"]
        }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let shown = walk.record(run)
            let username = "op-\(run.format)"
            let password = try XCTUnwrap(shown["password"], "\(run)")
            walk.issuedPasswords.append(password)
            XCTAssertEqual(password.count, 24)
            XCTAssertEqual(shown["username"], username)
            XCTAssertEqual(shown["role"], "auditor")
            let row = try XCTUnwrap(try walk.user(username))
            XCTAssertEqual(shown["id"], try row.uuid("id").uuidString.lowercased())
            XCTAssertEqual(try row.string("email"), "\(username)@example.test")
            XCTAssertEqual(try row.string("role"), "auditor")
            XCTAssertTrue(try row.bool("enabled"))
            let created = try walk.audit("user.create").last
            XCTAssertEqual(try created?.uuidIfPresent("target_user_id"), try row.uuid("id"))
            XCTAssertEqual(try created?.uuidIfPresent("user_id"), walk.adminID)
            XCTAssertEqual(try walk.details(created)["username"] as? String, username)
            // The password works, and only it.
            XCTAssertEqual(try walk.http.login(username, password).response.status, 200)
            XCTAssertEqual(try walk.http.login(username, password + "x").response.status, 401)
        },
        AdminCLIStep(name: "users create, a taken name", formats: [.table], arguments: { _, _ in
            ["users", "create", "op-json", "other@example.test"]
        }) { walk, run in
            XCTAssertEqual(run.status, 1, "\(run)")
            XCTAssertTrue(run.stderr.contains("Error [409]: user op-json already exists"), "\(run)")
            XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.users WHERE email = 'other@example.test'"), 0)
        },
        AdminCLIStep(name: "users list", arguments: { _, _ in ["users", "list"] }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let expected = try walk.rows("SELECT id, username, role, enabled FROM admin.users")
            var shown: [String: [String: String]] = [:]
            for row in walk.list(run) { shown[row["username"] ?? ""] = row }
            XCTAssertEqual(Set(shown.keys), Set(try expected.map { try $0.string("username") }), "\(run)")
            for row in expected {
                let user = shown[try row.string("username")]
                XCTAssertEqual(user?["id"], try row.uuid("id").uuidString.lowercased())
                XCTAssertEqual(user?["role"], try row.string("role"))
            }
            if run.format == .table {
                XCTAssertTrue(run.stdout.hasPrefix("ID "), run.stdout)
                XCTAssertEqual(run.tableRows.first.map { Set($0.keys) }, ["id", "username", "email", "role", "enabled"])
            }
        },
        AdminCLIStep(name: "users get", arguments: { walk, format in
            ["users", "get", try walk.userID("op-\(format)").uuidString.lowercased()]
        }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let shown = walk.record(run)
            XCTAssertEqual(shown["username"], "op-\(run.format)", "\(run)")
            XCTAssertEqual(shown["email"], "op-\(run.format)@example.test")
            XCTAssertNil(shown["password"])
        },
        AdminCLIStep(name: "users get, unknown", formats: [.table], arguments: { _, _ in
            ["users", "get", UUID().uuidString.lowercased()]
        }) { _, run in
            XCTAssertEqual(run.status, 1, "\(run)")
            XCTAssertTrue(run.stderr.contains("Error [404]"), "\(run)")
        },
        AdminCLIStep(name: "users update --disabled", arguments: { walk, format in
            ["users", "update", try walk.userID("op-\(format)").uuidString.lowercased(), "--disabled"]
        }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let username = "op-\(run.format)"
            XCTAssertEqual(walk.record(run)["enabled"], run.format == .json ? "false" : "False", "\(run)")
            XCTAssertFalse(try XCTUnwrap(try walk.user(username)).bool("enabled"))
            let update = try walk.audit("user.update").last
            XCTAssertEqual(try update?.uuidIfPresent("target_user_id"), try walk.userID(username))
            XCTAssertEqual(try walk.details(update)["enabled"] as? Bool, false)
        },
        AdminCLIStep(name: "users update --enabled --role admin", arguments: { walk, format in
            ["users", "update", try walk.userID("op-\(format)").uuidString.lowercased(), "--enabled", "--role", "admin"]
        }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let shown = walk.record(run)
            XCTAssertEqual(shown["role"], "admin", "\(run)")
            XCTAssertEqual(shown["enabled"], run.format == .json ? "true" : "True")
            let row = try XCTUnwrap(try walk.user("op-\(run.format)"))
            XCTAssertTrue(try row.bool("enabled"))
            XCTAssertEqual(try row.string("role"), "admin")
            let update = try walk.details(try walk.audit("user.update").last)
            XCTAssertEqual(update["role"] as? String, "admin")
            XCTAssertEqual(update["enabled"] as? Bool, true)
        },
        AdminCLIStep(name: "users delete", arguments: { walk, format in
            ["users", "delete", try walk.userID("op-\(format)").uuidString.lowercased(), "--yes"]
        }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            XCTAssertEqual(run.stdout, "User deleted.\n")
            XCTAssertNil(try walk.user("op-\(run.format)"))
            let deleted = try walk.audit("user.delete").last
            XCTAssertEqual(try deleted?.uuidIfPresent("user_id"), walk.adminID)
            XCTAssertNotNil(try walk.details(deleted)["user_id"] as? String)
        },
        AdminCLIStep(name: "users reset-password", arguments: { _, _ in ["users", "reset-password"] }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let shown = walk.record(run)
            let password = try XCTUnwrap(shown["password"], "\(run)")
            walk.issuedPasswords.append(password)
            XCTAssertEqual(shown["username"], "admin")
            XCTAssertNotEqual(password, walk.password)
            XCTAssertEqual(try walk.audit("user.reset_password").last?.uuidIfPresent("target_user_id"), walk.adminID)
            // The saved token was issued before the change: refused.
            let stale = try walk.cli.run(["users", "me"])
            XCTAssertEqual(stale.status, 1, "\(stale)")
            XCTAssertTrue(stale.stderr.contains("Error [401]: the token was issued before the user's last password change"),
                          "\(stale)")
            XCTAssertEqual(try walk.http.login("admin", walk.password).response.status, 401, "the old password")
            walk.password = password
            let again = try walk.cli.login(username: "admin", password: password)
            XCTAssertEqual(again.stdout, "Username: Logged in as admin\n", "\(again)")
        },
    ] }

    static var auditSteps: [AdminCLIStep] { [
        AdminCLIStep(name: "audit list", arguments: { _, _ in ["audit", "list"] }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let expected = try walk.auditIDs()
            XCTAssertGreaterThan(expected.count, 15)
            XCTAssertEqual(walk.list(run).map { $0["id"] ?? "" }, expected, "\(run)")
            if run.format == .table {
                XCTAssertEqual(run.tableRows.first.map { Set($0.keys) }, ["id", "action", "user_id", "created_at", "details"])
            } else {
                // Every field the API gives, with created_at exact to the microsecond.
                let newest = try XCTUnwrap(run.array?.first)
                let row = try XCTUnwrap(try walk.rows("""
                    SELECT action, ip_address, (extract(epoch FROM created_at) * 1000000)::bigint AS micros
                    FROM admin.audit_log WHERE id = $1
                    """, [.uuid(try XCTUnwrap(UUID(uuidString: newest["id"] as? String ?? "")))]).first)
                XCTAssertEqual(newest["action"] as? String, try row.string("action"))
                XCTAssertEqual(newest["ip_address"] as? String, try row.stringIfPresent("ip_address"))
                XCTAssertTrue(newest.keys.contains("target_user_id"))
                let shown = try XCTUnwrap(AdminDates.parse(newest["created_at"] as? String ?? ""), "\(newest)")
                XCTAssertEqual(Int64((shown.timeIntervalSince1970 * 1_000_000).rounded()), try row.int64("micros"),
                               "created_at \(newest["created_at"] ?? "")")
            }
        },
        AdminCLIStep(name: "audit list --limit --cursor", arguments: { _, _ in ["audit", "list", "--limit", "4"] }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let expected = try walk.auditIDs()
            var seen = walk.list(run).map { $0["id"] ?? "" }
            XCTAssertEqual(seen, Array(expected.prefix(4)), "\(run)")
            // The CLI prints one page; the next page's cursor is in the API's Link header.
            var path = "/audit-log?limit=4"
            var pages = 1
            while let cursor = try walk.nextCursor(path) {
                let page = try walk.cli.run(["audit", "list", "--limit", "4", "--cursor", cursor], format: run.format)
                XCTAssertEqual(page.status, 0, "\(page)")
                let ids = walk.list(page).map { $0["id"] ?? "" }
                // Only a last full page links to an empty one.
                if ids.isEmpty { XCTAssertEqual(seen.count % 4, 0, "\(page)"); break }
                XCTAssertLessThanOrEqual(ids.count, 4)
                seen += ids
                pages += 1
                path = "/audit-log?limit=4&cursor=\(cursor)"
                if pages > expected.count { break }
            }
            XCTAssertEqual(seen, expected, "every entry once, in order, over \(pages) pages")
            XCTAssertGreaterThanOrEqual(pages, 4)
            let garbage = try walk.cli.run(["audit", "list", "--cursor", "not-a-cursor"], format: run.format)
            XCTAssertEqual(garbage.status, 1, "\(garbage)")
            XCTAssertTrue(garbage.stderr.contains("Error [400]: cursor is not valid"), "\(garbage)")
        },
        AdminCLIStep(name: "audit list --action", arguments: { _, _ in ["audit", "list", "--action", "user.create"] }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let shown = walk.list(run)
            XCTAssertEqual(shown.map { $0["id"] ?? "" }, try walk.auditIDs(where: "action = 'user.create'"), "\(run)")
            XCTAssertEqual(shown.count, 2)
            XCTAssertEqual(Set(shown.map { $0["action"] ?? "" }), ["user.create"])
        },
        AdminCLIStep(name: "audit list --user-id", arguments: { walk, _ in
            ["audit", "list", "--user-id", walk.adminID.uuidString.lowercased()]
        }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let expected = try walk.auditIDs(where: "user_id = '\(walk.adminID.uuidString.lowercased())'")
            XCTAssertGreaterThan(expected.count, 5)
            XCTAssertLessThan(expected.count, try walk.auditIDs().count, "entries of other users and of none exist")
            XCTAssertEqual(walk.list(run).map { $0["id"] ?? "" }, expected, "\(run)")
        },
        AdminCLIStep(name: "audit list --since --until", arguments: { walk, _ in
            let (since, until) = try walk.middleOfTheAuditLog()
            return ["audit", "list", "--since", since.text, "--until", until.text]
        }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let (since, until) = try walk.middleOfTheAuditLog()
            let expected = try walk.auditIDs(where: """
                created_at >= 'epoch'::timestamptz + \(since.micros) * interval '1 microsecond'
                AND created_at <= 'epoch'::timestamptz + \(until.micros) * interval '1 microsecond'
                """)
            XCTAssertGreaterThanOrEqual(expected.count, 2)
            XCTAssertLessThan(expected.count, try walk.auditIDs().count)
            let shown = walk.list(run).map { $0["id"] ?? "" }
            XCTAssertEqual(shown, expected, "\(run)")
            XCTAssertEqual(shown.first, until.id, "until is inclusive")
            XCTAssertEqual(shown.last, since.id, "since is inclusive")
        },
        AdminCLIStep(name: "audit export -o", arguments: { walk, format in
            ["audit", "export", "-o", walk.cli.home.appendingPathComponent("export-\(format).ndjson").path]
        }) { walk, run in
            let file = walk.cli.home.appendingPathComponent("export-\(run.format).ndjson")
            // The export's own entry is written after it was read.
            let expected = Array(try walk.auditIDs().dropFirst())
            XCTAssertEqual(run.status, 0, "\(run)")
            XCTAssertEqual(run.stdout, "Exported \(expected.count) entries to \(file.path)\n")
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
            let entries = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            XCTAssertEqual(entries.count, lines.count, "one JSON object a line")
            XCTAssertEqual(entries.map { $0["id"] as? String ?? "" }, expected)
            let export = try walk.audit("audit_log.export").last
            XCTAssertEqual(try walk.details(export)["entries"] as? Int, expected.count)
            XCTAssertEqual(try export?.uuidIfPresent("user_id"), walk.adminID)
        },
        AdminCLIStep(name: "audit export --action (printed)", arguments: { _, _ in
            ["audit", "export", "--action", "auth.login"]
        }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let shown = walk.list(run)
            XCTAssertEqual(shown.map { $0["id"] ?? "" }, try walk.auditIDs(where: "action = 'auth.login'"), "\(run)")
            XCTAssertGreaterThanOrEqual(shown.count, 2)
            XCTAssertEqual(Set(shown.map { $0["action"] ?? "" }), ["auth.login"])
        },
    ] }

    static var maintenanceSteps: [AdminCLIStep] { [
        AdminCLIStep(name: "maintenance status, set on, set off", arguments: { _, _ in ["maintenance", "status"] }) { walk, run in
            func assertShows(_ run: AdminCLIRun, _ on: Bool) throws {
                XCTAssertEqual(run.status, 0, "\(run)")
                XCTAssertEqual(walk.record(run)["maintenance_mode"], run.format == .json ? "\(on)" : (on ? "True" : "False"),
                               "\(run)")
                XCTAssertEqual(try walk.server.sql { try $0.maintenanceMode() }, on)
                XCTAssertEqual(try walk.server.acmeeh(["maintenance", "status"]).stdout, "maintenance mode is \(on ? "on" : "off")\n")
            }
            try assertShows(run, false)
            let on = try walk.cli.run(["maintenance", "set", "on"], format: run.format)
            try assertShows(on, true)
            XCTAssertEqual(try walk.details(try walk.audit("maintenance.set").last)["enabled"] as? Bool, true)
            XCTAssertEqual(try HTTP.get(walk.server.baseURL + "/healthz").json?["maintenance_mode"] as? Bool, true)
            try assertShows(try walk.cli.run(["maintenance", "status"], format: run.format), true)
            let off = try walk.cli.run(["maintenance", "set", "off"], format: run.format)
            try assertShows(off, false)
            XCTAssertEqual(try walk.details(try walk.audit("maintenance.set").last)["enabled"] as? Bool, false)
            XCTAssertEqual(try HTTP.get(walk.server.baseURL + "/healthz").json?["maintenance_mode"] as? Bool, false)
        },
    ] }

    static var crlSteps: [AdminCLIStep] { [
        AdminCLIStep(name: "crl rebuild", arguments: { _, _ in ["crl", "rebuild"] }) { walk, run in
            XCTAssertEqual(run.status, 0, "\(run)")
            let number = try XCTUnwrap(try walk.rows("SELECT crl_number FROM crl_cache WHERE backend = 'internal'").first)
                .int64("crl_number")
            XCTAssertGreaterThan(number, walk.lastCRLNumber, "a new CRL at each rebuild")
            walk.lastCRLNumber = number
            let shown = walk.record(run)
            XCTAssertEqual(shown["status"], "ok", "\(run)")
            XCTAssertEqual(shown["crl_number"], String(number))
            if run.format == .json {
                let rebuilt = try XCTUnwrap(run.object?["rebuilt"] as? [[String: Any]])
                XCTAssertEqual(rebuilt.count, 1)
                XCTAssertEqual(rebuilt.first?["backend"] as? String, "internal")
                XCTAssertEqual((rebuilt.first?["crl_number"] as? NSNumber)?.int64Value, number)
            }
            XCTAssertEqual(try walk.details(try walk.audit("crl.rebuild").last)["backends"] as? Int, 1)
        },
    ] }

    static var logoutSteps: [AdminCLIStep] { [
        AdminCLIStep(name: "logout", formats: [.table], arguments: { walk, _ in
            walk.notes["token before logout"] = walk.cli.savedToken
            return ["logout"]
        }) { walk, run in
            let token = try XCTUnwrap(walk.notes["token before logout"])
            XCTAssertEqual(run.status, 0, "\(run)")
            XCTAssertEqual(run.stdout, "Logged out.\n")
            XCTAssertNil(walk.cli.savedToken)
            XCTAssertEqual(walk.cli.savedConfig["server_url"] as? String, walk.server.baseURL, "only the token goes")
            XCTAssertEqual(try walk.count("SELECT count(*) AS n FROM admin.token_revocations"), 1)
            XCTAssertEqual(try walk.audit("auth.logout").last?.uuidIfPresent("user_id"), walk.adminID)
            let reused = try walk.http.request("GET", "/me", token: token)
            XCTAssertEqual(reused.status, 401, reused.text)
            XCTAssertEqual(reused.json?["detail"] as? String, "the token was logged out")
            let after = try walk.cli.run(["users", "me"])
            XCTAssertEqual(after.status, 1, "\(after)")
            XCTAssertTrue(after.stderr.contains("Error [401]: an admin bearer token is required"), "\(after)")
        },
    ] }
}

// MARK: - the walk

/// One command of `acmeeh-admin`, run once per format in `formats` with the arguments (and
/// stdin) the walk's state gives, then `check`ed against the output and the database.
struct AdminCLIStep {
    let name: String
    var formats: [AdminCLI.Format] = AdminCLI.Format.allCases
    let arguments: (AdminCLIWalk, AdminCLI.Format) throws -> [String]
    var input: ((AdminCLIWalk) -> String)? = nil
    let check: (AdminCLIWalk, AdminCLIRun) throws -> Void
}

/// What the steps share: the server and its database, the CLI with its private HOME, a
/// direct HTTP client, the admin's current password and every password the API gave out.
final class AdminCLIWalk {
    let server: TestServer
    let cli: AdminCLI
    let http: AdminHTTP
    let bootstrapPassword: String
    let adminID: UUID
    /// The admin's password now (reset-password changes it).
    var password: String
    /// Passwords the API answered with (create, reset), which no log may hold.
    var issuedPasswords: [String] = []
    var lastCRLNumber: Int64 = 0
    /// What a step's `arguments` noted for its `check` (state from before the run).
    var notes: [String: String] = [:]

    init(server: TestServer) throws {
        self.server = server
        cli = try AdminCLI(serverURL: server.baseURL, home: server.directory.appendingPathComponent("cli-home"))
        http = AdminHTTP(base: server.baseURL + "/api")
        bootstrapPassword = try AdminAPISetup.bootstrapPassword(in: server.process.log)
        password = bootstrapPassword
        adminID = try server.sql { try XCTUnwrap($0.query("SELECT id FROM admin.users WHERE username = 'admin'").first).uuid("id") }
    }

    func perform(_ step: AdminCLIStep, file: StaticString = #filePath, line: UInt = #line) throws {
        for format in step.formats {
            let arguments = try step.arguments(self, format)
            let run = try cli.run(arguments, format: format, input: step.input?(self))
            do {
                try step.check(self, run)
            } catch {
                XCTFail("\(step.name) (\(format)): \(error)\n\(run)", file: file, line: line)
            }
        }
    }

    /// The output as records: the JSON array's objects (values as text: `true`, numbers, JSON
    /// of nested values) or the table's rows.
    func list(_ run: AdminCLIRun) -> [[String: String]] {
        switch run.format {
        case .table: return run.tableRows
        case .json: return (run.array ?? []).map(Self.texts)
        }
    }

    /// The output as one record: the JSON object or the table's `key  value` lines.
    func record(_ run: AdminCLIRun) -> [String: String] {
        switch run.format {
        case .table: return run.tableRecord
        case .json: return run.object.map(Self.texts) ?? [:]
        }
    }

    private static func texts(_ object: [String: Any]) -> [String: String] {
        object.mapValues { value in
            switch value {
            case let text as String: return text
            case let number as NSNumber where String(cString: number.objCType) == "c": return number.boolValue ? "true" : "false"
            case let number as NSNumber: return number.stringValue
            case is NSNull: return ""
            default:
                return (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            }
        }
    }

    // MARK: database

    func rows(_ sql: String, _ params: [PostgresValue?] = []) throws -> [Row] {
        try server.sql { try $0.query(sql, params) }
    }

    func count(_ sql: String) throws -> Int {
        try XCTUnwrap(try rows(sql).first).int("n")
    }

    func user(_ username: String) throws -> Row? {
        try rows("SELECT * FROM admin.users WHERE username = $1", [.string(username)]).first
    }

    func userID(_ username: String) throws -> UUID {
        guard let row = try user(username) else { throw CLIFailure("no user \(username)") }
        return try row.uuid("id")
    }

    /// The entries of `action`, oldest first.
    func audit(_ action: String) throws -> [Row] {
        try rows("""
            SELECT user_id, target_user_id, details::text AS details, ip_address FROM admin.audit_log
            WHERE action = $1 ORDER BY seq
            """, [.string(action)])
    }

    func details(_ row: Row?) throws -> [String: Any] {
        let text = try XCTUnwrap(row, "no audit entry").string("details")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The ids of the entries `condition` selects, in the API's order (newest first).
    func auditIDs(where condition: String = "true") throws -> [String] {
        try rows("SELECT id FROM admin.audit_log WHERE \(condition) ORDER BY created_at DESC, id DESC")
            .map { try $0.uuid("id").uuidString.lowercased() }
    }

    /// Two entries a third and two thirds down the log (oldest first): their ids, created_at
    /// as the API shows it, and in microseconds.
    func middleOfTheAuditLog() throws -> (since: (id: String, text: String, micros: Int64),
                                          until: (id: String, text: String, micros: Int64)) {
        let all = try rows("""
            SELECT id, (extract(epoch FROM created_at) * 1000000)::bigint AS micros FROM admin.audit_log
            ORDER BY created_at, id
            """)
        func entry(_ index: Int) throws -> (id: String, text: String, micros: Int64) {
            let micros = try all[index].int64("micros")
            let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
            return (try all[index].uuid("id").uuidString.lowercased(), AdminDates.format(date), micros)
        }
        return (try entry(all.count / 3), try entry(all.count * 2 / 3))
    }

    /// The cursor of the `rel="next"` link of `GET {base}{path}`, nil when there is none.
    func nextCursor(_ path: String) throws -> String? {
        let response = try http.request("GET", path, token: cli.savedToken)
        XCTAssertEqual(response.status, 200, response.text)
        guard let link = response.header("Link") else { return nil }
        XCTAssertTrue(link.hasSuffix(#">; rel="next""#), link)
        let url = String(link.dropFirst().prefix { $0 != ">" })
        XCTAssertTrue(url.hasPrefix(http.base + "/audit-log?"), url)
        return URLComponents(string: url)?.queryItems?.first { $0.name == "cursor" }?.value
    }

    // MARK: secrets

    /// The server's stdout and stderr hold the bootstrap password once, in its line, and no
    /// other password or hash; `admin.users` holds bcrypt hashes only.
    func assertPasswordsStayedSecret(file: StaticString = #filePath, line: UInt = #line) throws {
        let log = server.process.log
        let lines = log.split(separator: "\n").filter { $0.contains(bootstrapPassword) }
        XCTAssertEqual(lines.count, 1, "the bootstrap password is shown once", file: file, line: line)
        XCTAssertTrue(lines.first?.hasPrefix("acmeeh: the admin API had no users; created \"admin\"") == true,
                      "\(lines)", file: file, line: line)
        XCTAssertEqual(log.components(separatedBy: bootstrapPassword).count, 2, file: file, line: line)
        XCTAssertGreaterThanOrEqual(issuedPasswords.count, 4, file: file, line: line)
        for password in issuedPasswords {
            XCTAssertFalse(log.contains(password), "a password the API gave out is in the server's log", file: file, line: line)
        }
        let users = try rows("SELECT username, password_hash FROM admin.users")
        XCTAssertFalse(users.isEmpty)
        for user in users {
            let hash = try user.string("password_hash"), username = try user.string("username")
            XCTAssertTrue(hash.hasPrefix("$2b$") || hash.hasPrefix("$2y$"), "\(username): \(hash)",
                          file: file, line: line)
            XCTAssertEqual(hash.count, 60, file: file, line: line)
            for password in issuedPasswords + [bootstrapPassword] {
                XCTAssertFalse(hash.contains(password), file: file, line: line)
            }
            XCTAssertFalse(log.contains(hash), "a password hash is in the server's log", file: file, line: line)
        }
    }
}
