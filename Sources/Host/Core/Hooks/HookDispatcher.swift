import Foundation
import Logging
import Synchronization

/// Delivers domain events to the notifier plugins of `hooks.registered` (docs/hooks.md),
/// off the request path: `enqueue` (the EventDispatcher subscriber) only puts one delivery
/// per interested hook into a bounded in-memory queue and returns; `hooks.max_workers`
/// concurrent deliveries drain it. An attempt that fails with a retryable error is retried
/// up to `hooks.max_retries` times after 0.5·2^n s; a delivery that fails for good goes to
/// the dead-letter log (`hooks.dead_letter_log`) and the log. At most once, in memory:
/// what is queued when the process dies is lost.
final class HookDispatcher: Sendable {
    /// Deliveries waiting beyond this are dead-lettered at once, so a stalled receiver can
    /// neither exhaust memory nor hold up a request.
    static let queueCapacity = 10_000
    /// How long `close()` lets queued and running deliveries finish.
    static let drainTimeout: Duration = .seconds(5)

    /// One event for one hook.
    struct Delivery: Sendable {
        var target: HookTarget
        var payload: HookPayload
    }

    let targets: [HookTarget]
    let maxWorkers: Int
    let maxRetries: Int
    let deadLetterLog: HookDeadLetterLog?
    let observer: HookObserver
    let logger: Logger
    private let stream: AsyncStream<Delivery>
    private let continuation: AsyncStream<Delivery>.Continuation
    /// Deliveries queued and not yet taken by a worker, and deliveries being attempted.
    private let waiting = Atomic<Int>(0)
    private let attempting = Atomic<Int>(0)
    private let worker = Mutex<Task<Void, Never>?>(nil)
    /// Whether the workers finished, and who waits for that (`close()`).
    private let finished = Mutex<(done: Bool, waiter: CheckedContinuation<Bool, Never>?)>((false, nil))

    init(targets: [HookTarget], maxWorkers: Int, maxRetries: Int, deadLetterLog: HookDeadLetterLog?,
         observer: HookObserver = .none, logger: Logger) {
        self.targets = targets
        self.maxWorkers = max(1, maxWorkers)
        self.maxRetries = max(0, maxRetries)
        self.deadLetterLog = deadLetterLog
        self.observer = observer
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: Delivery.self,
                                                        bufferingPolicy: .bufferingOldest(Self.queueCapacity))
    }

    /// The delay before retry `n` (0-based): 0.5·2^n s, at most 60 s.
    static func backoff(_ retry: Int) -> Duration {
        .milliseconds(min(500 << min(retry, 20), 60_000))
    }

    /// Starts the workers (once).
    func start() {
        worker.withLock { task in
            guard task == nil else { return }
            task = Task {
                await self.run()
                let waiter = self.finished.withLock { state in
                    state.done = true
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: true)
            }
        }
    }

    /// Subscribes to `dispatcher`: each event a hook wants is queued for it.
    func subscribe(_ dispatcher: EventDispatcher) {
        dispatcher.subscribe { [self] event in enqueue(event) }
    }

    /// Queues `event` for every hook that wants it; never waits. With the queue full the
    /// delivery is dead-lettered instead.
    func enqueue(_ event: DomainEvent) {
        let wanting = targets.filter { $0.events.contains(event.name) }
        guard !wanting.isEmpty else { return }
        let payload = HookPayload(event)
        for target in wanting {
            let delivery = Delivery(target: target, payload: payload)
            waiting.add(1, ordering: .relaxed)
            switch continuation.yield(delivery) {
            case .enqueued:
                continue
            case .dropped:
                waiting.subtract(1, ordering: .relaxed)
                deadLetter(delivery, error: "the hook queue is full (\(Self.queueCapacity) deliveries waiting)", attempts: 0)
            case .terminated:
                waiting.subtract(1, ordering: .relaxed)
                deadLetter(delivery, error: "the server is shutting down", attempts: 0)
            @unknown default:
                waiting.subtract(1, ordering: .relaxed)
            }
        }
    }

    /// Stops taking events and lets the queued and running deliveries finish for at most
    /// `drainTimeout`. What is left then is abandoned (and logged): the queued deliveries are
    /// never attempted, retries waiting for their backoff are dead-lettered, and a plugin call
    /// in flight ends at its own deadline without being waited for.
    func close() async {
        continuation.finish()
        guard let task = worker.withLock({ $0 }) else { return }
        guard await !workersFinished(within: Self.drainTimeout) else { return }
        task.cancel()
        let queued = waiting.load(ordering: .relaxed), attempted = attempting.load(ordering: .relaxed)
        logger.warning("shutdown: the hook deliveries did not finish within \(Self.drainTimeout): \(queued) queued and \(attempted) in flight are abandoned")
    }

    /// True once the workers finished, false when `timeout` passed first. Never waits on a
    /// plugin call itself (those end at their own deadline only).
    private func workersFinished(within timeout: Duration) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let done = finished.withLock { state in
                if !state.done { state.waiter = continuation }
                return state.done
            }
            if done {
                continuation.resume(returning: true)
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                let waiter = finished.withLock { state in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: false)
            }
        }
    }

    private func run() async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await delivery in stream {
                if running >= maxWorkers {
                    await group.next()
                    running -= 1
                }
                waiting.subtract(1, ordering: .relaxed)
                attempting.add(1, ordering: .relaxed)
                group.addTask {
                    await self.deliver(delivery)
                    self.attempting.subtract(1, ordering: .relaxed)
                }
                running += 1
            }
        }
    }

    /// Attempts one delivery until it is accepted, fails for good or runs out of retries.
    private func deliver(_ delivery: Delivery) async {
        let target = delivery.target, event = delivery.payload.event
        let notification = delivery.payload.notification
        var attempts = 0
        while true {
            attempts += 1
            do {
                try await target.instance.deliver(notification, timeout: target.timeout)
                observer.counted(event, .delivered)
                return
            } catch {
                guard error.retryable, attempts <= maxRetries else {
                    deadLetter(delivery, error: error.detail, attempts: attempts)
                    return
                }
                observer.counted(event, .retried)
                let delay = Self.backoff(attempts - 1)
                logger.info("\(target.key) (\(target.notifier)): \(event) attempt \(attempts) failed, retrying in \(delay)",
                            metadata: ["error": "\(error.detail)"])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    deadLetter(delivery, error: "the server shut down before retry \(attempts)", attempts: attempts)
                    return
                }
            }
        }
    }

    /// A delivery that failed for good: counted, logged, and appended to the dead-letter log.
    private func deadLetter(_ delivery: Delivery, error: String, attempts: Int) {
        let target = delivery.target, event = delivery.payload.event
        observer.counted(event, .deadLettered)
        logger.warning("\(target.key) (\(target.notifier)): \(event) was not delivered after \(attempts) attempt(s): \(error)")
        guard let deadLetterLog else { return }
        let payload = (try? JSONSerialization.jsonObject(with: Data(delivery.payload.json.utf8))) ?? [:]
        let line = HookPayload.text([
            "timestamp": Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
            "hook": target.key, "notifier": target.notifier, "event": event, "payload": payload,
            "error": error, "attempts": attempts,
        ])
        if let failure = deadLetterLog.append(line) {
            logger.error("hooks.dead_letter_log: \(failure); the \(event) delivery of \(target.key) is lost")
        }
    }
}
