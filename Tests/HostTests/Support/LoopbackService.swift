import Foundation
@testable import Host
import XCTest

/// A Python fixture (Tests/HostTests/Fixtures/NAME.py) run as a child process on a
/// loopback port. The script takes `--port-file FILE` (it writes the port there when
/// listening) and `--log FILE` (it appends one JSON object per line for what it received).
final class LoopbackService: @unchecked Sendable {
    let process: Process
    let port: Int
    let directory: URL
    let logFile: URL

    init(script: String, arguments: [String] = []) throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-\(script)")
        let path = TestPaths.repository.appendingPathComponent("Tests/HostTests/Fixtures/\(script).py").path
        let portFile = directory.appendingPathComponent("port")
        logFile = directory.appendingPathComponent("log.jsonl")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let output = directory.appendingPathComponent("output")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [path, "--port-file", portFile.path, "--log", logFile.path] + arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: output)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let end = Date().addingTimeInterval(20)
        var found: Int? = nil
        while Date() < end, process.isRunning {
            if let text = try? String(contentsOf: portFile, encoding: .utf8),
               let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                found = value
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw CLIFailure("\(script).py did not start: \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        }
        port = found
    }

    /// The service's URL for `path` (plain http on loopback).
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// What the service logged so far, one object per line.
    func records() -> [[String: Any]] {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    func stop() {
        // SIGKILL: the child may have inherited a mask that blocks SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension XCTestCase {
    /// Fixtures/ct_log.py (an RFC 6962 log with its own key): `mode` ok, hang (answers after
    /// `hangSeconds`) or error (503).
    func startCTLog(mode: String = "ok", hangSeconds: Int = 60) throws -> LoopbackService {
        try startLoopbackService("ct_log", ["--mode", mode, "--hang-seconds", "\(hangSeconds)"])
    }

    /// Starts Fixtures/`script`.py on loopback; stopped and its files removed when the test ends.
    func startLoopbackService(_ script: String, _ arguments: [String] = []) throws -> LoopbackService {
        let service = try LoopbackService(script: script, arguments: arguments)
        addTeardownBlock {
            service.stop()
            try? FileManager.default.removeItem(at: service.directory)
        }
        return service
    }
}

extension LoopbackService {
    /// The public key (PEM) `Fixtures/ct_log.py` writes beside its port file, for `public_key_path`.
    var ctLogKeyPath: String { directory.appendingPathComponent("log-key.pem").path }
}

/// What a webhook receiver computes to check X-Acmeeh-Signature: HMAC-SHA256 of the body, hex.
func webhookHMAC(key: String, data: [UInt8]) -> String {
    Hex.encode(Digest.hmac(.sha256, key: Array(key.utf8), data: data))
}
