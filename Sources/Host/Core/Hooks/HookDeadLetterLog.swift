import Foundation
import Synchronization

/// `hooks.dead_letter_log`: one JSON line per delivery that failed for good, appended
/// (`O_APPEND`) to a file created with mode 0600 (a payload names accounts and
/// certificates). Each line is written whole under a lock, so workers never interleave.
final class HookDeadLetterLog: Sendable {
    let path: String
    private let lock = Mutex(())

    init(path: String) { self.path = path }

    /// Appends `line` and a newline; the reason when the file cannot be opened or written.
    func append(_ line: String) -> String? {
        let bytes = Array((line + "\n").utf8)
        return lock.withLock { _ -> String? in
            let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { return "cannot open \(path): \(String(cString: strerror(errno)))" }
            defer { _ = close(descriptor) }
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written == bytes.count else {
                return "cannot write \(path): \(written < 0 ? String(cString: strerror(errno)) : "short write")"
            }
            return nil
        }
    }
}
