#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An absolute CLOCK_MONOTONIC time in milliseconds, as `deadline_ms` crosses the ABI.
public struct Deadline: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The absolute deadline, CLOCK_MONOTONIC milliseconds.
    public let milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// The current CLOCK_MONOTONIC time in milliseconds.
    public static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// A deadline `milliseconds` from now.
    public static func fromNow(milliseconds: Int64) -> Deadline {
        Deadline(milliseconds: nowMilliseconds() + milliseconds)
    }

    /// Milliseconds left, never negative.
    public var remainingMilliseconds: Int64 { max(0, milliseconds - Deadline.nowMilliseconds()) }

    /// Seconds left as a Double (for APIs such as libcurl or ldns timeouts), never negative.
    public var remainingSeconds: Double { Double(remainingMilliseconds) / 1000 }

    public var hasPassed: Bool { Deadline.nowMilliseconds() >= milliseconds }

    /// The smaller of the time left and `cap` milliseconds: for a per-step timeout
    /// (e.g. a configured `timeout_seconds`) that must not outlive the call.
    public func remainingMilliseconds(cappedAt cap: Int64) -> Int64 { min(remainingMilliseconds, max(0, cap)) }

    /// Throws `ACMEEH_E_DEADLINE` (retryable) when the deadline has passed.
    /// `doing` says what was about to start, for the detail.
    public func check(_ doing: String = "") throws(PluginError) {
        if hasPassed {
            throw .deadline(doing.isEmpty ? "the deadline passed before the work finished"
                                          : "the deadline passed before \(doing)")
        }
    }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.milliseconds < b.milliseconds }
    public var description: String { "deadline in \(milliseconds - Deadline.nowMilliseconds()) ms" }
}
