import Foundation
import XCTest

/// `Fixtures/ct_log.py`: an RFC 6962 log on loopback with its own key, real SCT signatures
/// and a record of what it received; stopped (SIGKILL) when the test ends.
final class CTLogFixture: @unchecked Sendable {
    let process: Process
    let port: Int
    /// The log's public key (PEM SubjectPublicKeyInfo), for `public_key_path`.
    let keyPath: String
    let recordFile: URL

    /// `mode`: ok, hang (answers after `hangSeconds`) or error (503).
    init(directory: URL, mode: String = "ok", hangSeconds: Int = 60) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let portFile = directory.appendingPathComponent("port")
        keyPath = directory.appendingPathComponent("log-key.pem").path
        recordFile = directory.appendingPathComponent("record.jsonl")
        let output = directory.appendingPathComponent("log.out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [TestPaths.repository.appendingPathComponent("Tests/HostTests/Fixtures/ct_log.py").path,
                             "--port-file", portFile.path, "--key-out", keyPath, "--record", recordFile.path,
                             "--mode", mode, "--hang-seconds", "\(hangSeconds)"]
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let end = Date().addingTimeInterval(20)
        var found: Int? = nil
        while found == nil, Date() < end, process.isRunning {
            found = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let found else {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            throw CAFileTestFailure("CT log fixture did not start: \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        }
        port = found
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The requests received so far (path, entry_type, leaf_der_b64, has_poison, status, …).
    func records() -> [[String: Any]] {
        guard let text = try? String(contentsOf: recordFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension XCTestCase {
    func startCTLog(in directory: URL, mode: String = "ok", hangSeconds: Int = 60) throws -> CTLogFixture {
        let log = try CTLogFixture(directory: directory, mode: mode, hangSeconds: hangSeconds)
        addTeardownBlock { log.stop() }
        return log
    }
}
