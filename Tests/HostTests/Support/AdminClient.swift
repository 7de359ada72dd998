import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

// The admin API's clients in the tests: the reference's own command line, `acmeeh-admin`
// 1.0.1 (the venv that scripts/clients makes), and plain HTTP requests for what the CLI
// cannot show (status codes, headers, problem documents). Both talk only to loopback.

/// `acmeeh-admin` with a private HOME (its `~/.acmeeh-admin.json` — server URL and token — is
/// the test's own) and `ACMEEH_ADMIN_URL` at a loopback server. Every run is in a session of
/// its own without a terminal (`setsid -w`), so `login` reads the password from stdin and
/// never from the developer's /dev/tty, and is killed after `timeout` seconds.
final class AdminCLI {
    static let executable = TestPaths.repository.appendingPathComponent(".local/venv-acmeeh-admin/bin/acmeeh-admin").path

    /// `--format`: `table` (the default) or `json`.
    enum Format: String, CaseIterable {
        case table, json
    }

    let serverURL: String
    let apiPrefix: String
    let home: URL
    let timeout: TimeInterval

    /// Throws when the CLI is not installed.
    init(serverURL: String, apiPrefix: String = "/api", home: URL, timeout: TimeInterval = 60) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw CLIFailure("acmeeh-admin is not installed at \(Self.executable): run scripts/clients")
        }
        precondition(ACMEEndpoint.isLoopback(serverURL), "the admin CLI may only talk to loopback: \(serverURL)")
        self.serverURL = serverURL
        self.apiPrefix = apiPrefix
        self.home = home
        self.timeout = timeout
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    /// Runs `acmeeh-admin --format FORMAT ARGUMENTS` with `input` on stdin. The token comes
    /// from the saved config (login), unless `token` is given.
    func run(_ arguments: [String], format: Format = .table, input: String? = nil, token: String? = nil) throws -> AdminCLIRun {
        let full = [Self.executable, "--format", format.rawValue] + arguments
        let environment = [
            "HOME": home.path, "ACMEEH_ADMIN_URL": serverURL, "ACMEEH_ADMIN_API_PREFIX": apiPrefix,
            // Empty: not set (the CLI then reads the saved config).
            "ACMEEH_ADMIN_TOKEN": token ?? "", "ACMEEH_ADMIN_VERIFY_SSL": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        ]
        let result = try TimedCommand.run("/usr/bin/setsid", ["-w"] + full, environment: environment, input: input,
                                          timeout: timeout)
        return AdminCLIRun(commandLine: full, format: format, result: result)
    }

    /// `acmeeh-admin login`, answering its Username and Password prompts.
    func login(username: String, password: String) throws -> AdminCLIRun {
        try run(["login"], input: "\(username)\n\(password)\n")
    }

    /// `~/.acmeeh-admin.json` as the CLI saved it (empty when there is none).
    var savedConfig: [String: Any] {
        let url = home.appendingPathComponent(".acmeeh-admin.json")
        guard let data = try? Data(contentsOf: url) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// The token `login` saved.
    var savedToken: String? { savedConfig["token"] as? String }
}

/// One `acmeeh-admin` run: what it printed, parsed in the format it printed.
struct AdminCLIRun: CustomStringConvertible {
    let commandLine: [String]
    let format: AdminCLI.Format
    let result: CommandResult

    var status: Int32 { result.status }
    var succeeded: Bool { result.status == 0 }
    var stdout: String { result.stdout }
    var stderr: String { result.stderr }

    /// `--format json` output.
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
    var object: [String: Any]? { json as? [String: Any] }
    var array: [[String: Any]]? { json as? [[String: Any]] }

    /// A list in table format: one dictionary per row, keyed by the lowercased header. The
    /// columns are where the separator line's dashes are; values longer than 60 characters
    /// are cut to 57 and "...". `(no results)` is no row.
    var tableRows: [[String: String]] {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 2, lines[1].first == "-" else { return [] }
        let separator = Array(lines[1])
        var starts: [Int] = []
        for (index, character) in separator.enumerated() where character == "-" && (index == 0 || separator[index - 1] == " ") {
            starts.append(index)
        }
        func cells(_ line: String) -> [String] {
            let characters = Array(line)
            return starts.enumerated().map { column, start in
                let end = column + 1 < starts.count ? starts[column + 1] : characters.count
                guard start < characters.count else { return "" }
                return String(characters[start..<min(end, characters.count)]).trimmingCharacters(in: .whitespaces)
            }
        }
        let header = cells(lines[0]).map { $0.lowercased() }
        return lines.dropFirst(2).filter { !$0.isEmpty }.map { line in
            Dictionary(uniqueKeysWithValues: zip(header, cells(line)))
        }
    }

    /// A single record in table format (`  key  value` lines).
    var tableRecord: [String: String] {
        var record: [String: String] = [:]
        for line in stdout.split(separator: "\n") where line.hasPrefix("  ") {
            let text = line.dropFirst(2)
            guard let space = text.firstIndex(of: " ") else { record[String(text)] = ""; continue }
            record[String(text[..<space])] = text[space...].trimmingCharacters(in: .whitespaces)
        }
        return record
    }

    /// For assertion messages: the command, its exit code, its output.
    var description: String { ClientRun(commandLine: commandLine, result: result).description }
}

/// Direct requests to the admin API with a bearer token.
struct AdminHTTP {
    /// `{server}{base_path}`, e.g. `http://127.0.0.1:PORT/api`.
    let base: String

    init(base: String) {
        precondition(ACMEEndpoint.isLoopback(base), "admin requests may only go to loopback: \(base)")
        self.base = base
    }

    /// `METHOD {base}{path}` with `token` as `Authorization: Bearer` and `json` as the body.
    func request(_ method: String, _ path: String, token: String? = nil, json: Any? = nil,
                 headers: [String: String] = [:]) throws -> HTTP.Response {
        try Self.send(method, base + path, token: token, json: json, headers: headers)
    }

    static func send(_ method: String, _ url: String, token: String? = nil, json: Any? = nil,
                     headers: [String: String] = [:]) throws -> HTTP.Response {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try HTTP.send(request)
    }

    /// `POST /auth/login`; the token when it answered 200.
    func login(_ username: String, _ password: String) throws -> (response: HTTP.Response, token: String?) {
        let response = try request("POST", "/auth/login", json: ["username": username, "password": password])
        return (response, response.status == 200 ? response.json?["token"] as? String : nil)
    }
}

extension HTTP.Response {
    var text: String { String(decoding: body, as: UTF8.self) }
    var jsonArray: [[String: Any]]? { try? JSONSerialization.jsonObject(with: body) as? [[String: Any]] }
}

/// What the admin API tests configure and read at a server's start.
enum AdminAPISetup {
    static let tokenSecret = "test-admin-token-secret-0123456789"
    static let initialAdminEmail = "root@example.test"

    /// The `admin_api:` section (enabled); `more` are further keys, indented two spaces.
    static func section(expirySeconds: Int = 3600, more: String = "") -> String {
        """
        admin_api:
          enabled: true
          token_secret: \(tokenSecret)
          token_expiry_seconds: \(expirySeconds)
          initial_admin_email: \(initialAdminEmail)
          password_length: 24
        \(more)
        """
    }

    /// The bootstrap password from the line `acmeeh serve` prints once on stderr.
    static func bootstrapPassword(in log: String) throws -> String {
        let pattern = #"acmeeh: the admin API had no users; created "admin" \(([^)]*)\) with the password (\S+)"#
        let regex = try NSRegularExpression(pattern: pattern)
        let range = NSRange(log.startIndex..., in: log)
        guard let match = regex.firstMatch(in: log, range: range),
              let email = Range(match.range(at: 1), in: log), let password = Range(match.range(at: 2), in: log)
        else { throw CLIFailure("no bootstrap line in the server log:\n\(log)") }
        XCTAssertEqual(String(log[email]), initialAdminEmail)
        return String(log[password])
    }

    /// Waits until `log()` holds the bootstrap line (the server writes it before it listens,
    /// but a second instance may race) and returns its password.
    static func waitForBootstrapPassword(_ log: () -> String, timeout: TimeInterval = 10) throws -> String {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let password = try? bootstrapPassword(in: log()) { return password }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try bootstrapPassword(in: log())
    }
}
