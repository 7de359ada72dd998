import Foundation

/// How one flow ended: the step timings of a good certificate, or the error.
struct FlowRecord {
    let index: Int
    let totalMs: Double
    let steps: [Step: Double]
    let error: FlowError?
}

/// A whole run: C worker threads, each with its own connection and session, taking flow
/// numbers from a shared counter and running each flow to its end, until N flows have
/// started or the run's deadline has passed.
final class BenchRun: @unchecked Sendable {
    struct Settings {
        let directoryURL: String
        let flows: Int
        let concurrency: Int
        let reuseAccounts: Bool
        let timeoutSeconds: Double
        let requestTimeoutMs: Int
        let caFile: String?
        let insecure: Bool
        let flow: FlowSettings
    }

    struct Outcome {
        let records: [FlowRecord]
        let wallSeconds: Double
        let requests: Int
        let badNonceRetries: Int
        /// Workers still inside a flow when the run gave up waiting for them.
        let stuckWorkers: Int
    }

    private let settings: Settings
    private let responder: ChallengeResponder
    private let lock = NSLock()
    private var nextFlow = 0
    private var records: [FlowRecord] = []
    private var requests = 0
    private var badNonceRetries = 0
    private var finishedWorkers = 0
    private let finished = DispatchSemaphore(value: 0)

    init(settings: Settings, responder: ChallengeResponder) {
        self.settings = settings
        self.responder = responder
    }

    func run() -> Outcome {
        let start = Deadline.now()
        let deadline = Deadline(secondsFromNow: settings.timeoutSeconds)
        for worker in 0..<settings.concurrency {
            let thread = Thread { [self] in work(deadline: deadline) }
            thread.name = "worker-\(worker)"
            thread.start()
        }
        // Requests are bounded by the deadline; the grace covers a worker blocked elsewhere.
        let giveUp = DispatchTime(uptimeNanoseconds: deadline.uptimeNanoseconds + 5_000_000_000)
        var waited = 0
        while waited < settings.concurrency, !Interruption.requested, DispatchTime.now() < giveUp {
            if finished.wait(timeout: min(giveUp, .now() + .milliseconds(100))) == .success { waited += 1 }
        }
        let wall = Double(Deadline.now() - start) / 1e9
        return lock.withLock {
            Outcome(records: records, wallSeconds: wall, requests: requests,
                    badNonceRetries: badNonceRetries, stuckWorkers: settings.concurrency - finishedWorkers)
        }
    }

    private func claim(_ deadline: Deadline) -> Int? {
        lock.withLock {
            guard nextFlow < settings.flows, !deadline.passed, !Interruption.requested else { return nil }
            nextFlow += 1
            return nextFlow - 1
        }
    }

    private func work(deadline: Deadline) {
        defer { finished.signal() }
        var account: Account? = nil
        var countedRequests = 0, countedRetries = 0
        do {
            let http = try HTTPConnection(caFile: settings.caFile, insecure: settings.insecure)
            let acme = ACMESession(http: http, directoryURL: settings.directoryURL, deadline: deadline,
                                   requestTimeoutMs: settings.requestTimeoutMs)
            let flow = IssuanceFlow(session: acme, responder: responder, settings: settings.flow)
            while let index = claim(deadline) {
                let start = Deadline.now()
                var reuse: Account? = settings.reuseAccounts ? account : nil
                let record: FlowRecord
                do {
                    let steps = try flow.run(index: index, reuse: &reuse)
                    record = FlowRecord(index: index, totalMs: elapsedMs(since: start), steps: steps, error: nil)
                } catch let error as FlowError {
                    record = FlowRecord(index: index, totalMs: elapsedMs(since: start), steps: [:], error: error)
                } catch {
                    record = FlowRecord(index: index, totalMs: elapsedMs(since: start), steps: [:],
                                        error: FlowError(kind: "tool", detail: "\(error)", step: .newAccount))
                }
                if settings.reuseAccounts { account = reuse }
                let (sent, retried) = (acme.requests - countedRequests, acme.badNonceRetries - countedRetries)
                (countedRequests, countedRetries) = (acme.requests, acme.badNonceRetries)
                lock.withLock {
                    records.append(record)
                    requests += sent
                    badNonceRetries += retried
                }
            }
        } catch {
            FileHandle.standardError.write(Data("acmeeh-bench: worker cannot start: \(error)\n".utf8))
        }
        lock.withLock { finishedWorkers += 1 }
    }
}
