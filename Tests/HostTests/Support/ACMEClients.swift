import Foundation
import XCTest

// Real ACME clients driven by the end-to-end tests: certbot 2.1 (Debian), certbot 5.x (the
// venv that scripts/clients makes) and lego 4.9.1 (Debian). Each client instance has its own
// config/work/log directories under a test's temporary directory, talks only to the
// loopback server it is given, answers http-01 on 127.0.0.1, and every run is bounded by a
// timeout after which the client is killed.

/// Where a client finds the ACME server, and the root that signs the server's TLS
/// certificate when the directory is `https://` (Pebble's is; acmeeh's tests use plain http).
struct ACMEEndpoint {
    let directoryURL: String
    var tlsRoot: URL? = nil

    init(directoryURL: String, tlsRoot: URL? = nil) {
        precondition(ACMEEndpoint.isLoopback(directoryURL), "ACME clients may only talk to loopback: \(directoryURL)")
        self.directoryURL = directoryURL
        self.tlsRoot = tlsRoot
    }

    static func isLoopback(_ url: String) -> Bool {
        guard let host = URL(string: url)?.host else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

/// An External Account Binding credential (RFC 8555 §7.3.4): key id and base64url HMAC key.
struct EABCredential {
    let kid: String
    let hmacKey: String
}

/// The kind of certificate key a client generates.
enum ACMEKeyType: String {
    case ecdsa, rsa

    var certbotArguments: [String] {
        switch self {
        case .ecdsa: ["--key-type", "ecdsa", "--elliptic-curve", "secp256r1"]
        case .rsa: ["--key-type", "rsa", "--rsa-key-size", "2048"]
        }
    }

    var legoName: String {
        switch self {
        case .ecdsa: "ec256"
        case .rsa: "rsa2048"
        }
    }
}

/// Where a client stored an issued certificate.
struct CertificateFiles {
    /// The leaf (for lego: the leaf followed by the issuer chain, as lego bundles it).
    let certificate: URL
    /// The certificates above the leaf, as the server sent them.
    let chain: URL
    /// The certificate's private key.
    let key: URL

    var all: [URL] { [certificate, chain, key] }
    var missing: [String] { all.map(\.path).filter { !FileManager.default.fileExists(atPath: $0) } }
}

/// One client invocation: the command line, what it printed and how it exited, and (for
/// issuing commands) where the certificate files are expected.
struct ClientRun: CustomStringConvertible {
    let commandLine: [String]
    let result: CommandResult
    var files: CertificateFiles? = nil

    var status: Int32 { result.status }
    var succeeded: Bool { result.status == 0 }
    var output: String { result.stdout + "\n" + result.stderr }

    /// For assertion messages: the command, its exit code, its output.
    var description: String {
        """
        $ \(commandLine.joined(separator: " "))
        exit \(result.status)
        --- stdout ---
        \(result.stdout)
        --- stderr ---
        \(result.stderr)
        """
    }
}

// MARK: - certbot

/// certbot 2.1 (Debian's `/usr/bin/certbot`) or 5.x (`.local/venv-certbot5/bin/certbot`),
/// with its own `--config-dir`, `--work-dir` and `--logs-dir`, using `--standalone` http-01
/// on 127.0.0.1:`httpPort`.
final class Certbot {
    enum Release: String {
        case debian21 = "certbot 2.1"
        case venv5 = "certbot 5"

        var executable: String {
            switch self {
            case .debian21: "/usr/bin/certbot"
            case .venv5: TestPaths.repository.appendingPathComponent(".local/venv-certbot5/bin/certbot").path
            }
        }
    }

    let release: Release
    let endpoint: ACMEEndpoint
    let httpPort: Int
    let email: String
    let timeout: TimeInterval
    let configDirectory: URL
    let workDirectory: URL
    let logsDirectory: URL

    /// Makes `directory/{config,work,logs}`. Throws when the client is not installed.
    init(_ release: Release, endpoint: ACMEEndpoint, httpPort: Int, directory: URL,
         email: String = "admin@example.com", timeout: TimeInterval = 180) throws {
        guard FileManager.default.isExecutableFile(atPath: release.executable) else {
            throw CLIFailure("\(release.rawValue) is not installed at \(release.executable): run scripts/clients")
        }
        self.release = release
        self.endpoint = endpoint
        self.httpPort = httpPort
        self.email = email
        self.timeout = timeout
        configDirectory = directory.appendingPathComponent("config")
        workDirectory = directory.appendingPathComponent("work")
        logsDirectory = directory.appendingPathComponent("logs")
        for dir in [configDirectory, workDirectory, logsDirectory] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }

    /// Runs `certbot ARGUMENTS` with the server, directories and `-n` added.
    func run(_ arguments: [String], timeout: TimeInterval? = nil) throws -> ClientRun {
        let full = arguments + [
            "--server", endpoint.directoryURL,
            "--config-dir", configDirectory.path, "--work-dir", workDirectory.path, "--logs-dir", logsDirectory.path,
            "--non-interactive",
        ]
        var environment: [String: String] = [:]
        if let root = endpoint.tlsRoot { environment["REQUESTS_CA_BUNDLE"] = root.path }
        let result = try TimedCommand.run(release.executable, full, environment: environment,
                                          timeout: timeout ?? self.timeout)
        return ClientRun(commandLine: [release.executable] + full, result: result)
    }

    private var registration: [String] { ["--agree-tos", "-m", email, "--no-eff-email"] }

    private var standalone: [String] {
        ["--standalone", "--http-01-address", "127.0.0.1", "--http-01-port", String(httpPort)]
    }

    private static func eabArguments(_ eab: EABCredential?) -> [String] {
        guard let eab else { return [] }
        // `=` keeps a key that starts with "-" (base64url) from reading as an option.
        return ["--eab-kid=\(eab.kid)", "--eab-hmac-key=\(eab.hmacKey)"]
    }

    /// `certbot register` (with EAB when given).
    func register(eab: EABCredential? = nil) throws -> ClientRun {
        try run(["register"] + registration + Self.eabArguments(eab))
    }

    /// `certbot certonly --standalone` for `names` (`-d`) and `ipAddresses` (`--ip-address`,
    /// certbot 5 only), registering first if there is no account yet. The lineage is
    /// `certName`, default the first name.
    func certonly(names: [String], ipAddresses: [String] = [], keyType: ACMEKeyType = .ecdsa,
                  certName: String? = nil, eab: EABCredential? = nil, preferredProfile: String? = nil,
                  extra: [String] = []) throws -> ClientRun {
        let lineage = certName ?? names.first ?? ipAddresses.first ?? "cert"
        var arguments = ["certonly"] + registration + standalone + keyType.certbotArguments
        arguments += ["--cert-name", lineage]
        arguments += names.flatMap { ["-d", $0] }
        arguments += ipAddresses.flatMap { ["--ip-address", $0] }
        arguments += Self.eabArguments(eab)
        if let preferredProfile { arguments += ["--preferred-profile", preferredProfile] }
        var outcome = try run(arguments + extra)
        outcome.files = files(certName: lineage)
        return outcome
    }

    /// `certbot certonly --dns-rfc2136` for `names` (one lineage, `certName`, default the
    /// first name): certbot publishes the dns-01 records through the RFC 2136 server named in
    /// `credentials` and waits `propagationSeconds` before answering.
    func certonlyRFC2136(names: [String], credentials: URL, propagationSeconds: Int = 1,
                         keyType: ACMEKeyType = .ecdsa, certName: String? = nil) throws -> ClientRun {
        let lineage = certName ?? names.first ?? "cert"
        var arguments = ["certonly"] + registration + keyType.certbotArguments
        arguments += ["--dns-rfc2136", "--dns-rfc2136-credentials", credentials.path,
                      "--dns-rfc2136-propagation-seconds", String(propagationSeconds), "--cert-name", lineage]
        arguments += names.flatMap { ["-d", $0] }
        var outcome = try run(arguments)
        outcome.files = files(certName: lineage)
        return outcome
    }

    /// `certbot renew --cert-name N --no-random-sleep-on-renew`, with `--force-renewal`
    /// unless `force` is false (then certbot 5 asks the server's ARI whether it is time).
    func renew(certName: String, force: Bool = true, extra: [String] = []) throws -> ClientRun {
        var arguments = ["renew", "--cert-name", certName, "--no-random-sleep-on-renew"]
        arguments += ["--http-01-address", "127.0.0.1", "--http-01-port", String(httpPort)]
        if force { arguments.append("--force-renewal") }
        var outcome = try run(arguments + extra)
        outcome.files = files(certName: certName)
        return outcome
    }

    /// Revokes lineage `certName` signed with the account key; the files stay.
    func revoke(certName: String, reason: String = "keycompromise") throws -> ClientRun {
        try run(["revoke", "--cert-name", certName, "--reason", reason, "--no-delete-after-revoke"])
    }

    /// Revokes the certificate at `certificate` signed with its own key at `key` (no account).
    func revoke(certificate: URL, key: URL, reason: String = "keycompromise") throws -> ClientRun {
        try run(["revoke", "--cert-path", certificate.path, "--key-path", key.path, "--reason", reason,
                 "--no-delete-after-revoke"])
    }

    /// `certbot update_account -m EMAIL`.
    func updateAccount(email: String) throws -> ClientRun {
        try run(["update_account", "-m", email, "--no-eff-email"])
    }

    /// `certbot unregister` (deactivates the account).
    func unregister() throws -> ClientRun {
        try run(["unregister"])
    }

    /// The live files of lineage `certName` (symlinks that follow renewals).
    func files(certName: String) -> CertificateFiles {
        let live = configDirectory.appendingPathComponent("live").appendingPathComponent(certName)
        return CertificateFiles(certificate: live.appendingPathComponent("cert.pem"),
                                chain: live.appendingPathComponent("chain.pem"),
                                key: live.appendingPathComponent("privkey.pem"))
    }

    /// The fullchain file of lineage `certName`.
    func fullchain(certName: String) -> URL {
        configDirectory.appendingPathComponent("live").appendingPathComponent(certName)
            .appendingPathComponent("fullchain.pem")
    }

    /// The end of certbot's own debug log (for failure messages).
    var debugLog: String {
        let text = (try? String(contentsOf: logsDirectory.appendingPathComponent("letsencrypt.log"), encoding: .utf8)) ?? ""
        return String(text.suffix(6000))
    }
}

// MARK: - lego

/// lego 4.9.1 (Debian's `/usr/bin/lego`) with its own `--path`, answering http-01 on
/// 127.0.0.1:`httpPort`.
final class Lego {
    static let executable = "/usr/bin/lego"

    let endpoint: ACMEEndpoint
    let httpPort: Int
    let email: String
    let timeout: TimeInterval
    let path: URL

    init(endpoint: ACMEEndpoint, httpPort: Int, directory: URL,
         email: String = "admin@example.com", timeout: TimeInterval = 180) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw CLIFailure("lego is not installed at \(Self.executable): run scripts/clients")
        }
        self.endpoint = endpoint
        self.httpPort = httpPort
        self.email = email
        self.timeout = timeout
        path = directory.appendingPathComponent("lego")
        try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
    }

    /// Runs `lego GLOBAL-FLAGS -d NAME... COMMAND COMMAND-ARGUMENTS`.
    func run(names: [String], keyType: ACMEKeyType = .ecdsa, eab: EABCredential? = nil,
             command: [String], timeout: TimeInterval? = nil) throws -> ClientRun {
        var arguments = [
            "--server", endpoint.directoryURL, "--path", path.path, "--accept-tos", "--email", email,
            "--key-type", keyType.legoName, "--http", "--http.port", "127.0.0.1:\(httpPort)",
        ]
        arguments += names.flatMap { ["--domains", $0] }
        if let eab { arguments += ["--eab", "--kid=\(eab.kid)", "--hmac=\(eab.hmacKey)"] }
        arguments += command
        var environment: [String: String] = [:]
        if let root = endpoint.tlsRoot { environment["LEGO_CA_CERTIFICATES"] = root.path }
        let result = try TimedCommand.run(Self.executable, arguments, environment: environment,
                                          timeout: timeout ?? self.timeout)
        return ClientRun(commandLine: [Self.executable] + arguments, result: result,
                         files: names.first.map(files(for:)))
    }

    /// `lego --dns rfc2136 run` for `names`: lego publishes the dns-01 records through the
    /// RFC 2136 server in `environment` (`RFC2136_*`) and checks them only at `resolver`
    /// (`--dns.disable-cp`), so nothing asks the system's resolver.
    func obtainRFC2136(names: [String], environment: [String: String], resolver: String,
                       keyType: ACMEKeyType = .ecdsa) throws -> ClientRun {
        var arguments = [
            "--server", endpoint.directoryURL, "--path", path.path, "--accept-tos", "--email", email,
            "--key-type", keyType.legoName,
            "--dns", "rfc2136", "--dns.disable-cp", "--dns.resolvers", resolver,
        ]
        arguments += names.flatMap { ["--domains", $0] }
        arguments.append("run")
        let result = try TimedCommand.run(Self.executable, arguments, environment: environment, timeout: timeout)
        return ClientRun(commandLine: [Self.executable] + arguments, result: result, files: names.first.map(files(for:)))
    }

    /// `lego run`: registers (with EAB when given) and obtains one certificate for `names`.
    func obtain(names: [String], keyType: ACMEKeyType = .ecdsa, eab: EABCredential? = nil) throws -> ClientRun {
        try run(names: names, keyType: keyType, eab: eab, command: ["run"])
    }

    /// `lego renew --days 9999 --no-random-sleep`: renews whatever the expiry.
    func renew(names: [String], keyType: ACMEKeyType = .ecdsa) throws -> ClientRun {
        try run(names: names, keyType: keyType, command: ["renew", "--days", "9999", "--no-random-sleep"])
    }

    /// `lego revoke --reason N` of the certificate stored under `name` (the first name it
    /// was obtained for), signed with the account key; `--keep` leaves the files in place.
    func revoke(name: String, reason: Int = 4, keep: Bool = true) throws -> ClientRun {
        try run(names: [name], command: ["revoke", "--reason", String(reason)] + (keep ? ["--keep"] : []))
    }

    /// Where lego stores the certificate obtained with `name` first.
    func files(for name: String) -> CertificateFiles {
        let base = path.appendingPathComponent("certificates")
        let stem = name.replacingOccurrences(of: "*", with: "_")
        return CertificateFiles(certificate: base.appendingPathComponent("\(stem).crt"),
                                chain: base.appendingPathComponent("\(stem).issuer.crt"),
                                key: base.appendingPathComponent("\(stem).key"))
    }
}

// MARK: - checking certificates with openssl

/// What the tests ask of an issued certificate, answered by the `openssl` command line.
enum CertificateCheck {
    /// `openssl verify -CAfile ROOT [-untrusted CHAIN] CERTIFICATE` (the chain only when it
    /// holds a certificate). Exit 0 and `: OK` mean the chain leads to `root`.
    static func verify(_ files: CertificateFiles, root: URL) throws -> CommandResult {
        try verify(certificate: files.certificate, chain: files.chain, root: root)
    }

    static func verify(certificate: URL, chain: URL?, root: URL) throws -> CommandResult {
        var arguments = ["verify", "-CAfile", root.path]
        if let chain, let text = try? String(contentsOf: chain, encoding: .utf8), text.contains("BEGIN CERTIFICATE") {
            arguments += ["-untrusted", chain.path]
        }
        return try TimedCommand.run("/usr/bin/openssl", arguments + [certificate.path], timeout: 30)
    }

    /// The subjectAltName entries as `DNS:name` / `IP:address`, sorted.
    static func subjectAltNames(_ certificate: URL) throws -> [String] {
        let result = try openssl(["x509", "-noout", "-ext", "subjectAltName", "-in", certificate.path])
        return result.stdout.split(separator: "\n").dropFirst()
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "IP Address:", with: "IP:") }
            .filter { !$0.isEmpty }
            .sorted()
    }

    /// `["DNS:a", "IP:b", ...]` sorted, for comparing with `subjectAltNames`.
    static func expectedNames(dns: [String], ip: [String] = []) -> [String] {
        (dns.map { "DNS:\($0)" } + ip.map { "IP:\($0)" }).sorted()
    }

    /// The serial number, lowercase hex without leading zeros.
    static func serial(_ certificate: URL) throws -> String {
        let result = try openssl(["x509", "-noout", "-serial", "-in", certificate.path])
        let hex = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "serial=", with: "").lowercased()
        let trimmed = hex.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// `EC` or `RSA` (from the certificate's public key algorithm).
    static func keyAlgorithm(_ certificate: URL) throws -> String {
        let text = try openssl(["x509", "-noout", "-text", "-in", certificate.path]).stdout
        if text.contains("id-ecPublicKey") { return "EC" }
        if text.contains("rsaEncryption") { return "RSA" }
        return "unknown"
    }

    /// The SHA-256 fingerprint line (differs between the certificates of a renewal).
    static func fingerprint(_ certificate: URL) throws -> String {
        try openssl(["x509", "-noout", "-fingerprint", "-sha256", "-in", certificate.path]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `openssl x509 -text` of the certificate (extensions, validity, key).
    static func text(_ certificate: URL) throws -> String {
        try openssl(["x509", "-noout", "-text", "-in", certificate.path]).stdout
    }

    /// Whether the certificate expires within `seconds` (`openssl x509 -checkend`).
    static func expires(_ certificate: URL, within seconds: Int) throws -> Bool {
        let result = try TimedCommand.run("/usr/bin/openssl",
                                          ["x509", "-noout", "-checkend", String(seconds), "-in", certificate.path],
                                          timeout: 30)
        return result.status != 0
    }

    private static func openssl(_ arguments: [String]) throws -> CommandResult {
        let result = try TimedCommand.run("/usr/bin/openssl", arguments, timeout: 30)
        guard result.status == 0 else {
            throw CLIFailure("openssl \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result
    }
}

// MARK: - assertions

extension XCTestCase {
    /// Asserts that `run` exited 0, wrote its certificate, chain and key, that the certificate
    /// names exactly `dns` and `ip`, has a key of `keyAlgorithm` (`EC`/`RSA`) when given, and
    /// that `openssl verify` leads its chain to `root`. Returns the files when all that holds.
    @discardableResult
    func assertIssued(_ run: ClientRun, dns: [String], ip: [String] = [], keyAlgorithm: String? = nil,
                      root: URL, file: StaticString = #filePath, line: UInt = #line) -> CertificateFiles? {
        guard run.succeeded else {
            XCTFail("client failed:\n\(run)", file: file, line: line)
            return nil
        }
        guard let files = run.files else {
            XCTFail("no certificate files for \(run.commandLine)", file: file, line: line)
            return nil
        }
        guard files.missing.isEmpty else {
            XCTFail("missing \(files.missing) after:\n\(run)", file: file, line: line)
            return nil
        }
        do {
            XCTAssertEqual(try CertificateCheck.subjectAltNames(files.certificate),
                           CertificateCheck.expectedNames(dns: dns, ip: ip), "subjectAltName", file: file, line: line)
            if let keyAlgorithm {
                XCTAssertEqual(try CertificateCheck.keyAlgorithm(files.certificate), keyAlgorithm,
                               "certificate key", file: file, line: line)
            }
            let verify = try CertificateCheck.verify(files, root: root)
            XCTAssertEqual(verify.status, 0, "openssl verify: \(verify.stdout)\(verify.stderr)", file: file, line: line)
            XCTAssertTrue(verify.stdout.contains(": OK"), verify.stdout, file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        return files
    }
}

// MARK: - running a command with a deadline

enum TimedCommand {
    /// Runs `executable` with the test process's environment plus `environment` (proxy
    /// variables removed, so nothing leaves loopback), and kills it (SIGTERM, then SIGKILL)
    /// when it has not exited after `timeout` seconds; a timeout is noted at the end of stderr.
    /// Relative paths in `arguments` are relative to `currentDirectory` when given; `input`,
    /// when given, is the program's standard input (otherwise it reads /dev/null).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    currentDirectory: URL? = nil, input: String? = nil, timeout: TimeInterval) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        var merged = ProcessInfo.processInfo.environment
        for name in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            merged[name] = nil
        }
        merged["NO_PROXY"] = "*"
        merged["no_proxy"] = "*"
        merged.merge(environment) { _, new in new }
        process.environment = merged
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if let stdin, let input {
            // Small inputs (answers to prompts) fit the pipe's buffer: written at once, then EOF.
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        let outReader = AsyncReader(out.fileHandleForReading)
        let errReader = AsyncReader(err.fileHandleForReading)
        var note = ""
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            note = "\n[killed: no exit within \(Int(timeout)) s]"
            kill(process.processIdentifier, SIGTERM)
            if exited.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
        }
        process.waitUntilExit()
        let stdout = outReader.wait(), stderr = errReader.wait()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self) + note)
    }
}
