#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PluginAPI

/// CLOCK_MONOTONIC in milliseconds, the clock of every `deadline_ms` in the ABI.
enum MonotonicClock {
    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// now + timeout, saturating; a negative timeout counts as zero.
    static func deadline(after timeout: Duration) -> Int64 {
        let (seconds, attoseconds) = timeout.components
        guard seconds >= 0, attoseconds >= 0 else { return nowMilliseconds() }
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let total = overflow ? Int64.max / 2 : ms + attoseconds / 1_000_000_000_000_000
        return nowMilliseconds() &+ min(total, Int64.max / 2)
    }
}

extension acmeeh_error {
    /// A zeroed error with `struct_size` set by the host, as the ABI asks.
    static func empty() -> acmeeh_error {
        var error = acmeeh_error()
        error.struct_size = UInt32(MemoryLayout<acmeeh_error>.size)
        return error
    }

    /// Converts what the plugin wrote into a `PluginError`. The fixed-size strings are read
    /// up to their first NUL or their capacity, whichever comes first.
    func pluginError(source: String, operation: String) -> PluginError {
        var copy = self
        let problem = withUnsafeBytes(of: &copy.problem_type) { boundedString($0) }
        var detail = withUnsafeBytes(of: &copy.detail) { boundedString($0) }
        if detail.isEmpty { detail = "\(operation) failed without detail (code \(code))" }
        return PluginError(
            code: PluginError.Code(rawValue: code == 0 ? ACMEEH_E_INTERNAL : code),
            retryable: retryable != 0, problemType: problem, detail: detail, source: source)
    }
}

/// The text of a fixed-size C char array that may lack its terminating NUL.
func boundedString(_ bytes: UnsafeRawBufferPointer) -> String {
    let end = bytes.firstIndex(of: 0) ?? bytes.count
    return String(decoding: bytes[..<end], as: UTF8.self)
}

/// Calls `body` with NUL-terminated copies of `strings` (NULL for nil), valid for the call.
func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
    defer { copies.forEach { free($0) } }
    return try body(copies.map { $0.map { UnsafePointer($0) } })
}
