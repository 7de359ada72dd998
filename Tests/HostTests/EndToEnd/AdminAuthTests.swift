import Foundation
@testable import Host
import XCTest

/// Authentication of the admin API at a real `acmeeh serve`: tokens refused when forged,
/// expired, logged out, older than a password reset or of a disabled user (401 with
/// `WWW-Authenticate`), roles (403 for an auditor's change), RFC 7807 problem documents,
/// the login lockout shared by two instances on one database, `metrics.auth_required`,
/// the admin API's own listener, and `acmeeh admin create-user`.
final class AdminAuthTests: XCTestCase {
    var server: TestServer!
    var second: ServerProcess?

    override func tearDownWithError() throws {
        second?.stop()
        server?.shutdown()
    }

    /// Starts the server with the admin API on; the admin's bootstrap password.
    @discardableResult
    func start(expirySeconds: Int = 3600, adminMore: String = "", extra: String = "") throws -> String {
        server = try TestServer(extra: AdminAPISetup.section(expirySeconds: expirySeconds, more: adminMore) + "\n" + extra)
        return try AdminAPISetup.bootstrapPassword(in: server.process.log)
    }

    var http: AdminHTTP { AdminHTTP(base: server.baseURL + "/api") }

    /// `response` is a problem document of `kind` (`urn:acmeeh:admin:error:KIND`) with `status`.
    func assertProblem(_ response: HTTP.Response, _ status: Int, _ kind: String, detail: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, status, response.text, file: file, line: line)
        XCTAssertEqual(response.header("Content-Type"), "application/problem+json", file: file, line: line)
        XCTAssertEqual(response.json?["type"] as? String, "urn:acmeeh:admin:error:\(kind)", response.text, file: file, line: line)
        XCTAssertEqual(response.json?["status"] as? Int, status, file: file, line: line)
        let shown = response.json?["detail"] as? String ?? ""
        XCTAssertFalse(shown.isEmpty, response.text, file: file, line: line)
        if let detail { XCTAssertEqual(shown, detail, file: file, line: line) }
        if status == 401 {
            XCTAssertTrue(response.header("WWW-Authenticate")?.hasPrefix("Bearer realm=\"acmeeh-admin\"") == true,
                          "\(response.headers)", file: file, line: line)
        }
    }

    func login(_ username: String, _ password: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let (response, token) = try http.login(username, password)
        XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
        return try XCTUnwrap(token, response.text, file: file, line: line)
    }

    /// Creates a user through the API; its id and password.
    func createUser(_ username: String, role: String, token: String) throws -> (id: String, password: String) {
        let response = try http.request("POST", "/users", token: token,
                                        json: ["username": username, "email": "\(username)@example.test", "role": role])
        XCTAssertEqual(response.status, 201, response.text)
        return (try XCTUnwrap(response.json?["id"] as? String), try XCTUnwrap(response.json?["password"] as? String))
    }

    func testRefusedTokensRolesAndProblems() throws {
        let password = try start()
        let probe = try http.request("GET", "")
        XCTAssertEqual(probe.status, 200, probe.text)
        let admin = try login("admin", password)
        XCTAssertEqual(try http.request("GET", "/me", token: admin).json?["username"] as? String, "admin")

        // No token, a token that is not one, a forged MAC, a forged payload.
        assertProblem(try http.request("GET", "/me"), 401, "unauthorized", detail: "an admin bearer token is required")
        assertProblem(try http.request("GET", "/me", token: "garbage"), 401, "unauthorized", detail: "the token is not valid")
        let parts = admin.split(separator: ".").map(String.init)
        var mac = try XCTUnwrap(Base64URL.decode(parts[1]))
        mac[mac.count / 2] ^= 0x01
        let forged = try http.request("GET", "/me", token: parts[0] + "." + Base64URL.encode(mac))
        assertProblem(forged, 401, "unauthorized", detail: "the token is not valid")
        XCTAssertTrue(forged.header("WWW-Authenticate")?.contains(#"error="invalid_token""#) == true, "\(forged.headers)")
        var claims = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(Base64URL.decode(parts[0]))))
                                   as? [String: Any])
        claims["iat"] = (claims["iat"] as? Int ?? 0) + 1
        let payload = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims)))
        assertProblem(try http.request("GET", "/me", token: payload + "." + parts[1]), 401, "unauthorized")
        // A token signed with another secret.
        let otherSecret = AdminToken(user: try XCTUnwrap(try server.sql { try $0.adminUser(username: "admin") }))
            .signed(secret: AdminAPISetup.tokenSecret + "-other")
        assertProblem(try http.request("GET", "/me", token: otherSecret), 401, "unauthorized")

        // Roles: an auditor reads, and may not change anything.
        let auditorUser = try createUser("reader", role: "auditor", token: admin)
        let auditor = try login("reader", auditorUser.password)
        XCTAssertEqual(try http.request("GET", "/users", token: auditor).status, 200)
        XCTAssertEqual(try http.request("GET", "/audit-log", token: auditor).status, 200)
        XCTAssertEqual(try http.request("GET", "/me", token: auditor).json?["role"] as? String, "auditor")
        assertProblem(try http.request("POST", "/users", token: auditor, json: ["username": "x", "email": "x@example.test"]),
                      403, "forbidden")
        assertProblem(try http.request("POST", "/maintenance", token: auditor, json: ["enabled": true]), 403, "forbidden")
        assertProblem(try http.request("DELETE", "/users/\(auditorUser.id)", token: auditor), 403, "forbidden")
        XCTAssertEqual(try server.sql { try $0.query("SELECT count(*) AS n FROM admin.users WHERE username = 'x'") }.first?.int("n"), 0)
        XCTAssertFalse(try server.sql { try $0.maintenanceMode() })

        // Other problems.
        assertProblem(try http.request("GET", "/users/\(UUID().uuidString)", token: admin), 404, "notFound")
        assertProblem(try http.request("GET", "/users/not-a-uuid", token: admin), 400, "badRequest")
        assertProblem(try http.request("POST", "/users", token: admin, json: ["username": "y", "email": "y@example.test",
                                                                                 "role": "root"]),
                      400, "badRequest", detail: "role must be admin or auditor")
        assertProblem(try http.request("POST", "/users", token: admin, json: ["username": "reader", "email": "r@example.test"]),
                      409, "conflict")
        assertProblem(try http.request("GET", "/audit-log?limit=0", token: admin), 400, "badRequest")
        assertProblem(try http.request("POST", "/auth/login", json: ["username": "admin"]), 400, "badRequest")

        // A disabled user's token stops working at once, and the user cannot log in.
        let disabled = try http.request("PATCH", "/users/\(auditorUser.id)", token: admin, json: ["enabled": false])
        XCTAssertEqual(disabled.status, 200, disabled.text)
        assertProblem(try http.request("GET", "/users", token: auditor), 401, "unauthorized",
                      detail: "the token's user is disabled or deleted")
        assertProblem(try http.login("reader", auditorUser.password).response, 401, "unauthorized")
        XCTAssertEqual(try http.request("PATCH", "/users/\(auditorUser.id)", token: admin, json: ["enabled": true]).status, 200)
        XCTAssertEqual(try http.request("GET", "/users", token: auditor).status, 200, "enabled again")

        // Logged out: that token ends, another of the same user does not.
        let other = try login("admin", password)
        XCTAssertEqual(try http.request("POST", "/auth/logout", token: other).status, 200)
        assertProblem(try http.request("GET", "/me", token: other), 401, "unauthorized", detail: "the token was logged out")
        assertProblem(try http.request("POST", "/auth/logout", token: other), 401, "unauthorized")
        XCTAssertEqual(try http.request("GET", "/me", token: admin).status, 200)

        // A password reset ends every token issued before it; the new password logs in.
        let reset = try http.request("POST", "/me/reset-password", token: admin)
        XCTAssertEqual(reset.status, 200, reset.text)
        let newPassword = try XCTUnwrap(reset.json?["password"] as? String)
        assertProblem(try http.request("GET", "/me", token: admin), 401, "unauthorized",
                      detail: "the token was issued before the user's last password change")
        assertProblem(try http.login("admin", password).response, 401, "unauthorized", detail: "invalid username or password")
        let fresh = try login("admin", newPassword)
        XCTAssertEqual(try http.request("GET", "/me", token: fresh).status, 200)
        XCTAssertEqual(try http.request("GET", "/users", token: auditor).status, 200, "another user's reset ends no token of the auditor")
    }

    func testExpiredToken() throws {
        let password = try start(expirySeconds: 2)
        let (response, token) = try http.login("admin", password)
        XCTAssertEqual(response.json?["expires_in"] as? Int, 2)
        let admin = try XCTUnwrap(token, response.text)
        XCTAssertEqual(try http.request("GET", "/me", token: admin).status, 200)
        Thread.sleep(forTimeInterval: 2.2)
        assertProblem(try http.request("GET", "/me", token: admin), 401, "unauthorized", detail: "the token has expired")
        XCTAssertTrue(try http.request("GET", "/me", token: admin).header("WWW-Authenticate")?.contains("invalid_token") == true)
        XCTAssertEqual(try http.request("GET", "/me", token: try login("admin", password)).status, 200)
    }

    func testLoginLockoutIsSharedByTwoInstances() throws {
        let password = try start()
        // A second instance on the same database (it finds the admin and creates none).
        let port = try ServerProcess.freePort()
        let yaml = try String(contentsOf: server.configFile, encoding: .utf8)
            .replacingOccurrences(of: "\n  port: \(server.port)\n", with: "\n  port: \(port)\n")
        let config = server.directory.appendingPathComponent("second.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let second = try ServerProcess(config: config, port: port, logFile: server.directory.appendingPathComponent("second.log"))
        self.second = second
        try second.waitUntilLive()
        XCTAssertFalse(second.log.contains("had no users"), second.log)
        let first = http, other = AdminHTTP(base: second.baseURL + "/api")

        for (instance, attempts) in [(first, 3), (other, 2)] {
            for _ in 0..<attempts {
                assertProblem(try instance.login("admin", "wrong-password").response, 401, "unauthorized")
            }
        }
        XCTAssertEqual(try server.sql { try $0.query("SELECT count(*) AS n FROM admin.login_failures") }.first?.int("n"), 5)
        for instance in [first, other] {
            let locked = try instance.login("admin", password).response
            assertProblem(locked, 429, "rateLimited")
            let retryAfter = try XCTUnwrap(Int(locked.header("Retry-After") ?? ""), "\(locked.headers)")
            XCTAssertTrue((880...900).contains(retryAfter), "Retry-After \(retryAfter)")
            XCTAssertEqual(try instance.login("admin", "wrong-password").response.status, 429)
        }
        let refusals = try server.sql {
            try $0.query("SELECT count(*) AS n FROM admin.audit_log WHERE action = 'auth.login_locked'")
        }.first?.int("n")
        XCTAssertEqual(refusals, 4)
        // The lockout is of that username: another one from the same address is not locked.
        assertProblem(try first.login("nobody", "whatever").response, 401, "unauthorized")
    }

    func testMetricsNeedAnAdminToken() throws {
        let password = try start(extra: "metrics:\n  enabled: true\n  auth_required: true\n")
        let url = server.baseURL + "/metrics"
        let anonymous = try HTTP.get(url)
        XCTAssertEqual(anonymous.status, 401, anonymous.text)
        XCTAssertEqual(anonymous.header("WWW-Authenticate"), #"Bearer realm="acmeeh-admin""#)
        XCTAssertEqual(try HTTP.get(url, headers: ["Authorization": "Bearer garbage"]).status, 401)
        let token = try login("admin", password)
        let scrape = try HTTP.get(url, headers: ["Authorization": "Bearer \(token)"])
        XCTAssertEqual(scrape.status, 200, scrape.text)
        XCTAssertTrue(scrape.text.contains("acmeeh_uptime_seconds"), scrape.text)
        XCTAssertEqual(try http.request("POST", "/auth/logout", token: token).status, 200)
        XCTAssertEqual(try HTTP.get(url, headers: ["Authorization": "Bearer \(token)"]).status, 401, "logged out")
    }

    func testTheAdminAPIOnAListenerOfItsOwn() throws {
        let adminPort = try ServerProcess.freePort()
        let password = try start(adminMore: "  bind: 127.0.0.1\n  port: \(adminPort)\n")
        let own = AdminHTTP(base: "http://127.0.0.1:\(adminPort)/api")
        let end = Date().addingTimeInterval(10)
        while Date() < end, (try? own.request("GET", ""))?.status != 200 { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertEqual(try own.request("GET", "").json?["service"] as? String, "acmeeh-admin")
        let (response, token) = try own.login("admin", password)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(try own.request("GET", "/me", token: token).status, 200)
        // Not on the ACME listener; and the ACME API is not on the admin listener.
        XCTAssertEqual(try http.request("GET", "").status, 404)
        XCTAssertEqual(try http.request("GET", "/me", token: token).status, 404)
        XCTAssertEqual(try http.login("admin", password).response.status, 404)
        XCTAssertEqual(try HTTP.get(server.directoryURL).status, 200)
        XCTAssertEqual(try HTTP.get("http://127.0.0.1:\(adminPort)/directory").status, 404)
        // The reference CLI works against it.
        let cli = try AdminCLI(serverURL: "http://127.0.0.1:\(adminPort)", home: server.directory.appendingPathComponent("cli"))
        let login = try cli.login(username: "admin", password: password)
        XCTAssertEqual(login.stdout, "Username: Logged in as admin\n", "\(login)")
        let me = try cli.run(["users", "me"], format: .json)
        XCTAssertEqual(me.object?["username"] as? String, "admin", "\(me)")
    }

    func testCreateUserCommand() throws {
        try start()
        let created = try server.acmeeh(["admin", "create-user", "--username", "ops", "--email", "ops@example.test",
                                         "--role", "admin"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let line = try XCTUnwrap(created.stdout.split(separator: "\n").first { $0.hasPrefix("password: ") }, created.stdout)
        let password = String(line.dropFirst("password: ".count))
        XCTAssertEqual(password.count, 24)
        let token = try login("ops", password)
        let me = try http.request("GET", "/me", token: token)
        XCTAssertEqual(me.json?["role"] as? String, "admin", me.text)
        XCTAssertEqual(me.json?["email"] as? String, "ops@example.test")

        let json = try server.acmeeh(["admin", "create-user", "--username", "viewer", "--email", "viewer@example.test", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout)
        XCTAssertEqual(object["role"] as? String, "auditor")
        XCTAssertEqual(try http.request("GET", "/me", token: try login("viewer", try XCTUnwrap(object["password"] as? String)))
            .json?["username"] as? String, "viewer")

        let hashes = try server.sql { try $0.query("SELECT password_hash FROM admin.users").map { try $0.string("password_hash") } }
        XCTAssertEqual(hashes.count, 3)
        for hash in hashes { XCTAssertTrue(hash.hasPrefix("$2b$") || hash.hasPrefix("$2y$"), hash) }
        XCTAssertFalse(hashes.contains { $0.contains(password) })

        let duplicate = try server.acmeeh(["admin", "create-user", "--username", "ops", "--email", "other@example.test"])
        XCTAssertNotEqual(duplicate.status, 0)
        XCTAssertTrue(duplicate.stderr.contains(#"a user named "ops" already exists"#), duplicate.stderr)
        XCTAssertFalse(duplicate.stdout.contains("password"), duplicate.stdout)
        XCTAssertEqual(try server.sql { try $0.query("SELECT count(*) AS n FROM admin.users") }.first?.int("n"), 3)
        let role = try server.acmeeh(["admin", "create-user", "--username", "x", "--email", "x@example.test", "--role", "root"])
        XCTAssertNotEqual(role.status, 0)
        XCTAssertTrue(role.stderr.contains("--role must be admin or auditor"), role.stderr)
    }
}
