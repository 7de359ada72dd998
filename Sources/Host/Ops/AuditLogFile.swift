import Foundation
import Synchronization

/// The audit log file (`logging.audit.file`): lines appended (`O_APPEND`) by one serial
/// queue, so that no event loop ever waits on the disk; `append` only queues. When a
/// line would take the file past `maxBytes`, the file is rotated first: `audit.log.<n>`
/// becomes `audit.log.<n+1>` (the one past `backups` is dropped), `audit.log` becomes
/// `audit.log.1`, and a fresh `audit.log` is opened. One process writes one file.
final class AuditLogFile: @unchecked Sendable {
    let path: String
    let maxBytes: Int
    let backups: Int
    /// Lines queued and not yet written; beyond `maxPending` new lines are dropped (and
    /// counted), so a stalled disk cannot exhaust memory.
    static let maxPending = 100_000

    private let queue = DispatchQueue(label: "acmeeh.audit-log")
    private let pending = Mutex((lines: 0, dropped: 0))
    private let report: @Sendable (String) -> Void
    // Touched only on `queue`.
    private var descriptor: Int32
    private var size: Int

    /// Opens (creating it with mode 0640) the file at `path`; throws when it cannot.
    /// `report` hears of write failures and of dropped lines.
    init(path: String, maxBytes: Int, backups: Int, report: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.backups = backups
        self.report = report
        (descriptor, size) = try Self.open(path)
    }

    /// Queues one line (a newline is added).
    func append(_ line: String) {
        let admitted = pending.withLock { state in
            guard state.lines < Self.maxPending else {
                state.dropped += 1
                return false
            }
            state.lines += 1
            return true
        }
        guard admitted else { return }
        let bytes = Array((line + "\n").utf8)
        queue.async { self.write(bytes) }
    }

    /// Waits (blocking: not for async code) until every queued line is written.
    func flush() {
        queue.sync {}
    }

    /// Writes what is queued and closes the file; later lines are dropped. Suspends, never
    /// blocks, the caller.
    func close() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.async {
                if self.descriptor >= 0 { _ = Foundation.close(self.descriptor) }
                self.descriptor = -1
                done.resume()
            }
        }
    }

    private func write(_ bytes: [UInt8]) {
        let dropped = pending.withLock { state in
            state.lines -= 1
            defer { state.dropped = 0 }
            return state.dropped
        }
        if dropped > 0 { report("audit log: \(dropped) line(s) dropped, the writer fell behind") }
        guard descriptor >= 0 else { return }
        if size > 0 && size + bytes.count > maxBytes { rotate() }
        guard descriptor >= 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                report("audit log: cannot write \(path): \(String(cString: strerror(errno)))")
                return
            }
            offset += written
        }
        size += bytes.count
    }

    private func rotate() {
        _ = Foundation.close(descriptor)
        descriptor = -1
        if backups > 0 {
            for index in stride(from: backups - 1, through: 1, by: -1) {
                _ = rename("\(path).\(index)", "\(path).\(index + 1)")
            }
            _ = rename(path, "\(path).1")
        } else {
            _ = unlink(path)
        }
        do {
            (descriptor, size) = try Self.open(path)
        } catch {
            report("audit log: \(error)")
        }
    }

    private static func open(_ path: String) throws -> (Int32, Int) {
        let descriptor = Foundation.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw AuditLogFileError(path: path, reason: String(cString: strerror(errno))) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Foundation.close(descriptor)
            throw AuditLogFileError(path: path, reason: reason)
        }
        return (descriptor, Int(status.st_size))
    }
}

/// The audit log file cannot be opened.
struct AuditLogFileError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot open the audit log \(path): \(reason)" }
}
