import Foundation

/// `scripts/loopback-dns` on a free 127.0.0.1 port (UDP and TCP):
/// answers from a zone file the test writes and may rewrite at any time (A, AAAA, TXT,
/// CNAME chains, CAA, wildcards, forced rcodes, silence, the AD bit; the script's doc has
/// the format). Servers under test resolve the names they validate through it; it never
/// forwards a query.
final class LoopbackDNS: @unchecked Sendable {
    /// A 127.0.0.1 for every name under `.test`.
    static let everyTestName = "*.test A 127.0.0.1\n"

    let process = Process()
    let port: Int
    let zoneFile: URL
    let logFile: URL
    var address: String { "127.0.0.1:\(port)" }

    init(directory: URL, zone: String = LoopbackDNS.everyTestName) throws {
        let script = TestPaths.repository.appendingPathComponent("scripts/loopback-dns")
        let name = "dns-\(UUID().uuidString.prefix(8))"
        let portFile = directory.appendingPathComponent("\(name).port")
        zoneFile = directory.appendingPathComponent("\(name).zone")
        logFile = directory.appendingPathComponent("\(name).log")
        try zone.write(to: zoneFile, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, "--port-file", portFile.path, "--zone-file", zoneFile.path]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let end = Date().addingTimeInterval(20)
        var found: Int? = nil
        while Date() < end, process.isRunning, found == nil {
            if let text = try? String(contentsOf: portFile, encoding: .utf8) {
                found = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let found else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            throw CLIFailure("scripts/loopback-dns did not start: \((try? String(contentsOf: logFile, encoding: .utf8)) ?? "")")
        }
        port = found
    }

    /// Replaces the zone; the next query is answered from it.
    func write(_ zone: String) throws {
        try zone.write(to: zoneFile, atomically: true, encoding: .utf8)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// SIGKILL: processes the test runner starts may inherit a blocked SIGTERM.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}
