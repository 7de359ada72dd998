import Foundation
import XCTest

/// A real nginx (Debian's, installed by scripts/clients) as a TLS-terminating reverse proxy
/// in front of one acmeeh: a private configuration, pid, logs and temporary files under its
/// own directory, one process (`master_process off`, `daemon off`) that `stop()` ends. It
/// listens on `https://127.0.0.1:port` with the test TLS CA's certificate for 127.0.0.1,
/// connects to acmeeh from `upstreamSource` (`proxy_bind`), and sets `X-Forwarded-For`
/// (`$proxy_add_x_forwarded_for`) and `X-Forwarded-Proto` (`$scheme`).
final class NginxProxy {
    static let candidates = ["/usr/sbin/nginx", "/usr/bin/nginx"]

    /// The nginx executable, or nil when nginx is not installed.
    static var executable: String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    let process = Process()
    let port: Int
    let directory: URL
    var baseURL: String { "https://127.0.0.1:\(port)" }
    var errorLog: String { (try? String(contentsOf: directory.appendingPathComponent("error.log"), encoding: .utf8)) ?? "" }

    init(directory: URL, port: Int, upstreamPort: Int, upstreamSource: String, tls: TLSTestPKI) throws {
        guard let nginx = Self.executable else { throw CLIFailure("nginx is not installed: run scripts/clients") }
        self.directory = directory
        self.port = port
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let config = """
            master_process off;
            daemon off;
            pid \(path("nginx.pid"));
            error_log \(path("error.log")) info;
            events { worker_connections 64; }
            http {
                access_log \(path("access.log"));
                client_body_temp_path \(path("tmp/body"));
                proxy_temp_path \(path("tmp/proxy"));
                fastcgi_temp_path \(path("tmp/fastcgi"));
                uwsgi_temp_path \(path("tmp/uwsgi"));
                scgi_temp_path \(path("tmp/scgi"));
                server {
                    listen 127.0.0.1:\(port) ssl;
                    server_name localhost;
                    ssl_certificate \(tls.serverCert);
                    ssl_certificate_key \(tls.serverKey);
                    location / {
                        proxy_pass http://127.0.0.1:\(upstreamPort);
                        proxy_bind \(upstreamSource);
                        proxy_set_header Host $http_host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                        client_max_body_size 64k;
                    }
                }
            }
            """
        let file = directory.appendingPathComponent("nginx.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("stderr.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = ["-p", directory.path, "-e", path("error.log"), "-c", file.path]
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits until nginx accepts TLS connections (any HTTP answer counts, 502 included).
    func waitUntilServing(caFile: String, timeout: TimeInterval = 20) throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if !process.isRunning {
                throw CLIFailure("nginx exited with \(process.terminationStatus):\n\(errorLog)")
            }
            if let answer = try? Curl.request("\(baseURL)/livez", caFile: caFile), answer.status > 0 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw CLIFailure("nginx did not answer within \(timeout)s:\n\(errorLog)")
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let end = Date().addingTimeInterval(10)
        while process.isRunning && Date() < end { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    deinit { stop() }
}

/// One HTTP request with the curl CLI, for what URLSession cannot do in the tests: trust a
/// private CA, and choose the source address (`--interface`) on loopback.
enum Curl {
    struct Answer {
        let status: Int
        let headers: [String: String]
        let body: String
        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// GET `url`; `caFile` is the CA trusted for https, `source` the local address to send from.
    static func request(_ url: String, caFile: String? = nil, source: String? = nil,
                        headers: [String: String] = [:]) throws -> Answer {
        precondition(ACMEEndpoint.isLoopback(url), "loopback only: \(url)")
        var arguments = ["-sS", "-i", "--max-time", "20"]
        if let caFile { arguments += ["--cacert", caFile] }
        if let source { arguments += ["--interface", source] }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { arguments += ["-H", "\(name): \(value)"] }
        let result = try Command.tool("curl", arguments + [url])
        guard result.status == 0 else { throw CLIFailure("curl \(url) failed (\(result.status)): \(result.stderr)") }
        let parts = result.stdout.components(separatedBy: "\r\n\r\n")
        let lines = (parts.first ?? "").components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Answer(status: status, headers: fields, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}
