import Foundation

/// SIGINT/SIGTERM end the run early: no new flows start, and the report is printed with
/// the flows in flight counted as stalled (how `scripts/bench` stops a frozen server's run).
enum Interruption {
    nonisolated(unsafe) private static var signalled: sig_atomic_t = 0

    static var requested: Bool { signalled != 0 }

    static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in Interruption.signalled = 1 }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}
