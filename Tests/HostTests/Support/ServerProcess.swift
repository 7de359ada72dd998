import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// A real `acmeeh serve` process on a loopback port, for end-to-end tests.
final class ServerProcess {
    let process = Process()
    let port: Int
    let logFile: URL
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(config: URL, port: Int, logFile: URL, environment: [String: String] = [:]) throws {
        self.port = port
        self.logFile = logFile
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.executableURL = TestPaths.executable
        process.arguments = ["-c", config.path, "serve"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Waits until `/livez` answers, or fails with the server's log.
    func waitUntilLive(timeout: TimeInterval = 30) throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if !process.isRunning {
                throw CLIFailure("server exited with \(process.terminationStatus) before serving:\n\(log)")
            }
            if let response = try? HTTP.get("\(baseURL)/livez"), response.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw CLIFailure("server did not answer /livez within \(timeout)s:\n\(log)")
    }

    /// Sends SIGTERM and waits for the exit status.
    @discardableResult
    func stop(timeout: TimeInterval = 30) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < end { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        return process.terminationStatus
    }

    /// Sends SIGKILL (no shutdown: its database sessions just end) and waits for the exit.
    func killNow() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    /// A TCP port that was free a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw CLIFailure("cannot find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A minimal blocking HTTP client for tests.
enum HTTP {
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: Data
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    /// `checks.worker_states` of an instance's `/healthz` (empty when it does not answer).
    static func workerStates(_ baseURL: String) -> [String: [String: Any]] {
        guard let health = try? get("\(baseURL)/healthz"),
              let checks = health.json?["checks"] as? [String: Any] else { return [:] }
        return checks["worker_states"] as? [String: [String: Any]] ?? [:]
    }

    static func get(_ url: String, headers: [String: String] = [:]) throws -> Response {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 30
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try send(request)
    }

    static func send(_ request: URLRequest) throws -> Response {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Response, any Error> = .failure(CLIFailure("no response"))
        let session = URLSession(configuration: .ephemeral)
        session.dataTask(with: request) { data, response, error in
            if let error {
                result = .failure(error)
            } else if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (key, value) in http.allHeaderFields { headers["\(key)"] = "\(value)" }
                result = .success(Response(status: http.statusCode, headers: headers, body: data ?? Data()))
            }
            done.signal()
        }.resume()
        done.wait()
        session.finishTasksAndInvalidate()
        return try result.get()
    }
}
