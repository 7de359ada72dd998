import Foundation
import NIOConcurrencyHelpers

/// The counters of `backend: memory`: fixed windows in a lock-protected dictionary of
/// this process only. Windows that ended are dropped every `gcInterval`, and at most
/// `capacity` keys are kept (when full of live windows, the ones ending soonest go).
final class MemoryRateCounters: Sendable {
    private struct Counter {
        var windowEnd: Date
        var count: Int
    }

    private struct State {
        var counters: [String: Counter] = [:]
        var nextGC = Date()
    }

    private let state = NIOLockedValueBox(State())
    let capacity: Int
    let gcInterval: TimeInterval

    init(capacity: Int = 100_000, gcInterval: TimeInterval = 300) {
        self.capacity = capacity
        self.gcInterval = gcInterval
    }

    /// Counts one request for `key` in `window`: nil when admitted, else the end of the
    /// window that is full (the request is not counted).
    func hit(_ key: String, window: RateLimitWindow, limit: Int, now: Date = Date()) -> Date? {
        state.withLockedValue { state in
            if now >= state.nextGC || state.counters.count >= capacity {
                Self.collect(&state, now: now, capacity: capacity)
                state.nextGC = now.addingTimeInterval(gcInterval)
            }
            var counter = state.counters[key] ?? Counter(windowEnd: window.end, count: 0)
            if counter.windowEnd != window.end { counter = Counter(windowEnd: window.end, count: 0) }
            guard counter.count < limit else { return counter.windowEnd }
            counter.count += 1
            state.counters[key] = counter
            return nil
        }
    }

    /// How many keys are held (for tests).
    var count: Int { state.withLockedValue { $0.counters.count } }

    private static func collect(_ state: inout State, now: Date, capacity: Int) {
        state.counters = state.counters.filter { $0.value.windowEnd > now }
        let excess = state.counters.count - capacity * 9 / 10
        if excess > 0 {
            for key in state.counters.sorted(by: { $0.value.windowEnd < $1.value.windowEnd }).prefix(excess).map(\.key) {
                state.counters[key] = nil
            }
        }
    }
}
