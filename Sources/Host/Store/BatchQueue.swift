import Foundation
import NIOConcurrencyHelpers

/// Batches of concurrent requests waiting for the database. A few I/O threads (one per core,
/// at most the pool's size) each take every waiting batch, up to `maxPerPipeline`, send them
/// as ONE pipeline on one pooled connection (`Connection.runBatches`: each batch still its
/// own transaction) and complete each caller. Under load one wake-up and one round trip
/// serve several requests; alone, a batch goes out at once.
final class BatchQueue: @unchecked Sendable {
    typealias Outcome = Result<[BatchStatementResult], Error>
    typealias Completion = @Sendable (Outcome) -> Void
    /// Pipelines write every batch before reading: a bound keeps the replies well within
    /// the socket buffers.
    static let maxPerPipeline = 8

    /// Guards everything below; its value is true while a thread has work to take.
    private let condition = ConditionLock<Bool>(value: false)
    private var waiting: [(statements: [BatchStatement], completion: Completion)] = []
    private var stopping = false
    private var started = false
    private let threadCount: Int
    private var run: (@Sendable ([[BatchStatement]]) -> [Outcome])?

    /// `threadCount` I/O threads start with the first batch.
    init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
    }

    /// What a thread does with the batches it took: send them on one connection and return
    /// one outcome per batch. Set once, before the first `submit`.
    func setRunner(_ run: @escaping @Sendable ([[BatchStatement]]) -> [Outcome]) {
        condition.lock()
        self.run = run
        condition.unlock()
    }

    /// Queues a batch; `completion` runs on an I/O thread once its pipeline is answered.
    func submit(_ statements: [BatchStatement], completion: @escaping Completion) {
        condition.lock()
        if stopping {
            condition.unlock()
            completion(.failure(StoreError(.poolClosed, "database pool is shut down")))
            return
        }
        waiting.append((statements, completion))
        if !started, let run {
            started = true
            for n in 0..<threadCount {
                let thread = Thread { self.serve(run) }
                thread.name = "acmeeh-db-io-\(n)"
                thread.start()
            }
        }
        condition.unlock(withValue: true)
    }

    /// Stops taking work: the threads finish what is queued, then exit. Later batches fail.
    func stop() {
        condition.lock()
        stopping = true
        condition.unlock(withValue: true)
    }

    private func serve(_ run: @Sendable ([[BatchStatement]]) -> [Outcome]) {
        while true {
            condition.lock(whenValue: true)
            if waiting.isEmpty && stopping {
                condition.unlock(withValue: true)
                return
            }
            let taken = Array(waiting.prefix(Self.maxPerPipeline))
            waiting.removeFirst(taken.count)
            condition.unlock(withValue: !waiting.isEmpty || stopping)
            let outcomes = run(taken.map(\.statements))
            for (item, outcome) in zip(taken, outcomes) { item.completion(outcome) }
        }
    }
}
