import NIOCore

/// The bookkeeping of `Database`'s pool, kept under one lock. It only decides; the caller
/// performs what it decided (open, close, resume a waiter) outside the lock.
struct PoolState {
    /// What a checkout gets: an idle connection, or the right to open a new one.
    enum Grant: Sendable {
        case connection(Connection)
        case openSlot
    }

    struct Waiter {
        let id: UInt64
        let deliver: @Sendable (Result<Grant, any Error>) -> Void
        var timeoutTask: Task<Void, Never>?
    }

    struct IdleConnection {
        let connection: Connection
        let since: NIODeadline
    }

    let maxConnections: Int
    let minConnections: Int

    /// Idle connections, oldest first; checkouts take the newest (so old ones age out).
    var idle: [IdleConnection] = []
    /// Slots in use: connections lent out, plus connections being opened.
    var leased = 0
    var waiters: [Waiter] = []
    var nextWaiterID: UInt64 = 0
    var closed = false
    var lastConnectError: String?

    var size: Int { idle.count + leased }

    init(minConnections: Int, maxConnections: Int) {
        self.maxConnections = max(1, maxConnections)
        self.minConnections = min(max(0, minConnections), self.maxConnections)
    }

    enum Acquire {
        case granted(Grant)
        case queued
        case failed(StoreError)
    }

    mutating func makeWaiterID() -> UInt64 {
        nextWaiterID += 1
        return nextWaiterID
    }

    /// Takes a free connection or slot, or queues `waiter` (FIFO).
    mutating func acquire(orEnqueue waiter: Waiter) -> Acquire {
        if closed { return .failed(StoreError(.poolClosed, "database pool is shut down")) }
        if waiters.isEmpty, let grant = takeImmediately() { return .granted(grant) }
        waiters.append(waiter)
        return .queued
    }

    private mutating func takeImmediately() -> Grant? {
        if let last = idle.popLast() {
            leased += 1
            return .connection(last.connection)
        }
        if size < maxConnections {
            leased += 1
            return .openSlot
        }
        return nil
    }

    /// Removes a waiter that gave up (timeout, cancellation). False when it was already served.
    mutating func removeWaiter(_ id: UInt64) -> Waiter? {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: i)
    }

    /// Attaches the timeout task to a still-waiting waiter; false when it was served already.
    mutating func attachTimeout(_ id: UInt64, _ task: Task<Void, Never>) -> Bool {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return false }
        waiters[i].timeoutTask = task
        return true
    }

    enum Release {
        case keep
        case handOver(Waiter, Grant)
        case close(andHandOver: (Waiter, Grant)?)
    }

    /// A lent connection comes back. Healthy: to the first waiter, else idle. Broken or
    /// pool closed: discarded, and its slot goes to the first waiter (which opens a new one).
    mutating func release(_ connection: Connection, healthy: Bool, now: NIODeadline) -> Release {
        leased -= 1
        if closed { return .close(andHandOver: nil) }
        if !healthy {
            return .close(andHandOver: handSlotToWaiter())
        }
        if !waiters.isEmpty {
            let w = waiters.removeFirst()
            leased += 1
            return .handOver(w, .connection(connection))
        }
        idle.append(IdleConnection(connection: connection, since: now))
        return .keep
    }

    /// A slot whose connection could not be opened (or was lost) is free again.
    mutating func freeSlot() -> (Waiter, Grant)? {
        leased -= 1
        return closed ? nil : handSlotToWaiter()
    }

    private mutating func handSlotToWaiter() -> (Waiter, Grant)? {
        guard !waiters.isEmpty, size < maxConnections else { return nil }
        leased += 1
        return (waiters.removeFirst(), .openSlot)
    }

    /// Idle connections idle since before `cutoff`, oldest first, while the pool stays ≥ min.
    mutating func reap(idleSince cutoff: NIODeadline) -> [Connection] {
        var out: [Connection] = []
        while size > minConnections, let first = idle.first, first.since < cutoff {
            out.append(idle.removeFirst().connection)
        }
        return out
    }

    /// Reserves a slot to bring the pool up to `minConnections`; false when there is no need.
    mutating func reserveForMinimum() -> Bool {
        guard !closed, size < minConnections else { return false }
        leased += 1
        return true
    }

    /// Closes the pool: returns the idle connections to close and the waiters to fail.
    mutating func close() -> ([Connection], [Waiter]) {
        closed = true
        let conns = idle.map(\.connection)
        idle.removeAll()
        let ws = waiters
        waiters.removeAll()
        return (conns, ws)
    }
}
