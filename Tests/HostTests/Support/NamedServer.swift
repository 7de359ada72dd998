import Foundation
import XCTest

/// BIND 9's `named` (Debian's bind9, installed by scripts/clients) serving the zone
/// `dns.test` on a free 127.0.0.1 port (UDP and TCP), without recursion, accepting RFC 2136
/// updates signed with the TSIG key `acme-key` (hmac-sha256) — what certbot's
/// `--dns-rfc2136`, lego's `--dns rfc2136` and `nsupdate` publish challenge records with.
final class NamedServer: @unchecked Sendable {
    static let executable = "/usr/sbin/named"
    static let nsupdate = "/usr/bin/nsupdate"
    static let zone = "dns.test"
    static let keyName = "acme-key"

    let directory: URL
    /// The TSIG key's secret, base64.
    let secret: String
    let port: Int
    private let process: Process
    var address: String { "127.0.0.1:\(port)" }

    /// Starts named in `directory` (its config, zone, journal and log live there) and waits
    /// until it answers; throws, naming scripts/clients, when bind9 is not installed.
    init(directory: URL) throws {
        for tool in [Self.executable, Self.nsupdate] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw CLIFailure("\(tool) is missing: bind9 and bind9-dnsutils are not installed (run scripts/clients)")
        }
        self.directory = directory
        secret = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try "$TTL 60\n@ SOA ns.dns.test. admin.dns.test. 1 60 60 600 60\n@ NS ns.dns.test.\nns A 127.0.0.1\n"
            .write(to: directory.appendingPathComponent("dns.test.zone"), atomically: true, encoding: .utf8)
        // A port free for TCP a moment ago may be taken for UDP: named then exits; try another.
        var failures: [String] = []
        for _ in 0..<3 {
            let port = try ServerProcess.freePort()
            let process = try Self.launch(directory: directory, port: port, secret: secret)
            if try Self.waitUntilServing(process, directory: directory, port: port) {
                self.port = port
                self.process = process
                return
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            failures.append(Self.log(in: directory))
        }
        throw CLIFailure("named did not start:\n\(failures.joined(separator: "\n---\n"))")
    }

    private static func launch(directory: URL, port: Int, secret: String) throws -> Process {
        let d = directory.path
        try """
            options { directory "\(d)"; listen-on port \(port) { 127.0.0.1; }; listen-on-v6 { none; };
                      recursion no; dnssec-validation no; pid-file "\(d)/named.pid"; session-keyfile "\(d)/session.key"; };
            controls { };
            key "\(keyName)" { algorithm hmac-sha256; secret "\(secret)"; };
            zone "\(zone)" { type primary; file "\(d)/dns.test.zone"; allow-update { key \(keyName); }; };
            """.write(toFile: d + "/named.conf", atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: d + "/named.log", contents: nil)
        let log = try FileHandle(forWritingTo: directory.appendingPathComponent("named.log"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-g", "-n", "1", "-c", d + "/named.conf", "-u", "root"]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// True once named logs that it is running and listening on `port`; false when it
    /// exited, could not bind the port, or did not get there within 30 s.
    private static func waitUntilServing(_ process: Process, directory: URL, port: Int) throws -> Bool {
        let end = Date().addingTimeInterval(30)
        while Date() < end, process.isRunning {
            let text = log(in: directory)
            if text.split(separator: "\n").contains(where: { $0.hasSuffix(" running") }) {
                return text.contains("127.0.0.1#\(port)") && !text.contains("address in use")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    private static func log(in directory: URL) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("named.log"), encoding: .utf8)) ?? ""
    }

    var log: String { Self.log(in: directory) }

    /// Runs `nsupdate` with the TSIG key against this server: `commands` are nsupdate's
    /// (`update add NAME TTL TXT "VALUE"`, `update delete ...`), followed by `send`.
    @discardableResult
    func update(_ commands: String) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.nsupdate)
        process.arguments = ["-t", "5", "-y", "hmac-sha256:\(Self.keyName):\(secret)"]
        let input = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errReader = AsyncReader(err.fileHandleForReading)
        input.fileHandleForWriting.write(Data("server 127.0.0.1 \(port)\n\(commands)\nsend\n".utf8))
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let result = CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                                   stderr: String(decoding: errReader.wait(), as: UTF8.self))
        guard result.status == 0 else { throw CLIFailure("nsupdate failed (\(result.status)): \(result.stderr)") }
        return result
    }

    /// certbot's `--dns-rfc2136-credentials` file for this server (mode 600, as certbot wants).
    func certbotCredentials(at url: URL) throws -> URL {
        try """
            dns_rfc2136_server = 127.0.0.1
            dns_rfc2136_port = \(port)
            dns_rfc2136_name = \(Self.keyName)
            dns_rfc2136_secret = \(secret)
            dns_rfc2136_algorithm = HMAC-SHA256

            """.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        return url
    }

    /// lego's `--dns rfc2136` settings for this server. lego solves the authorizations of
    /// one order one after another, `RFC2136_SEQUENCE_INTERVAL` (default 60 s) apart: 1 s here.
    var legoEnvironment: [String: String] {
        ["RFC2136_NAMESERVER": address, "RFC2136_TSIG_KEY": Self.keyName, "RFC2136_TSIG_SECRET": secret,
         "RFC2136_TSIG_ALGORITHM": "hmac-sha256.", "RFC2136_PROPAGATION_TIMEOUT": "30", "RFC2136_POLLING_INTERVAL": "1",
         "RFC2136_SEQUENCE_INTERVAL": "1"]
    }

    /// SIGKILL: processes the test runner starts may inherit a blocked SIGTERM.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}
