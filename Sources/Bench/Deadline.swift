import Foundation

/// A point on the monotonic clock, for bounding the whole run and each request in it.
struct Deadline {
    let uptimeNanoseconds: UInt64

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    init(secondsFromNow seconds: Double) {
        uptimeNanoseconds = Deadline.now() + UInt64(max(0, seconds) * 1e9)
    }

    var remainingMs: Int {
        let now = Deadline.now()
        return now >= uptimeNanoseconds ? 0 : Int((uptimeNanoseconds - now) / 1_000_000)
    }

    var passed: Bool { remainingMs == 0 }
}

/// Milliseconds since `start` (a `Deadline.now()` reading).
func elapsedMs(since start: UInt64) -> Double {
    Double(Deadline.now() - start) / 1e6
}
