import Foundation

/// What a run measured, as a human-readable summary or one JSON object (`--json`).
struct BenchReport {
    let settings: BenchRun.Settings
    let outcome: BenchRun.Outcome
    let cpu: ProcessCPU
    let http01: (served: Int, notFound: Int)

    private var succeeded: [FlowRecord] { outcome.records.filter { $0.error == nil } }
    private var failed: [FlowRecord] { outcome.records.filter { $0.error != nil && $0.error?.kind != "stalled" } }
    /// Flows that did not finish: in flight when the time ran out, or never started.
    var stalled: Int { settings.flows - succeeded.count - failed.count }
    var inFlightAtDeadline: Int { outcome.records.filter { $0.error?.kind == "stalled" }.count + outcome.stuckWorkers }
    var clean: Bool { failed.isEmpty && stalled == 0 }

    private var flowsPerSecond: Double { outcome.wallSeconds > 0 ? Double(succeeded.count) / outcome.wallSeconds : 0 }

    private var errors: [String: Int] {
        failed.reduce(into: [:]) { counts, record in counts[record.error!.kind, default: 0] += 1 }
    }

    private var latencies: [(String, Percentiles?)] {
        let good = succeeded
        return [("flow", Percentiles(good.map(\.totalMs)))] + Step.allCases.map { step in
            (step.rawValue, Percentiles(good.compactMap { $0.steps[step] }))
        }
    }

    private var cpuTotalMs: Double { cpu.userMs + cpu.systemMs }

    func json() -> String {
        var latency: [String: Any] = [:]
        for (name, stats) in latencies {
            guard let stats else { continue }
            latency[name] = ["count": stats.count, "p50": round3(stats.p50), "p90": round3(stats.p90),
                             "p99": round3(stats.p99), "max": round3(stats.max), "mean": round3(stats.mean)]
        }
        let object: [String: Any] = [
            "tool": "acmeeh-bench",
            "directory": settings.directoryURL,
            "flows": settings.flows,
            "concurrency": settings.concurrency,
            "names": settings.flow.names,
            "key": settings.flow.certificateKey.rawValue,
            "reuse_accounts": settings.reuseAccounts,
            "succeeded": succeeded.count,
            "failed": failed.count,
            "stalled": stalled,
            "stalled_in_flight": inFlightAtDeadline,
            "wall_seconds": round3(outcome.wallSeconds),
            "flows_per_second": round3(flowsPerSecond),
            "latency_ms": latency,
            "errors": errors,
            "error_samples": Array(failed.prefix(5).map { "flow \($0.index): \($0.error!)" }),
            "requests": outcome.requests,
            "bad_nonce_retries": outcome.badNonceRetries,
            "http01": ["served": http01.served, "not_found": http01.notFound],
            "tool_cpu": ["user_ms": round3(cpu.userMs), "system_ms": round3(cpu.systemMs),
                         "ms_per_flow": round3(succeeded.isEmpty ? 0 : cpuTotalMs / Double(succeeded.count)),
                         "cores": round3(outcome.wallSeconds > 0 ? cpuTotalMs / 1000 / outcome.wallSeconds : 0)],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    func text() -> String {
        var lines = [
            "acmeeh-bench: \(settings.directoryURL)",
            "  \(settings.flows) flows, concurrency \(settings.concurrency), \(settings.flow.names) name(s), \(settings.flow.certificateKey.rawValue)"
                + (settings.reuseAccounts ? ", accounts reused per worker" : ""),
            "  succeeded \(succeeded.count), failed \(failed.count), stalled \(stalled) (in flight at the end \(inFlightAtDeadline))",
            String(format: "  %.2f flows/s over %.2f s, %d requests (%d badNonce retries), http-01 served %d (404: %d)",
                   flowsPerSecond, outcome.wallSeconds, outcome.requests, outcome.badNonceRetries, http01.served, http01.notFound),
            "  latency ms          p50      p90      p99      max",
        ]
        for (name, stats) in latencies {
            guard let stats else { continue }
            let label = "    " + name + String(repeating: " ", count: max(1, 15 - name.count))
            lines.append(label + String(format: "%8.1f %8.1f %8.1f %8.1f", stats.p50, stats.p90, stats.p99, stats.max))
        }
        for (kind, count) in errors.sorted(by: { $0.value > $1.value }) {
            lines.append("  error \(kind): \(count)")
        }
        for record in failed.prefix(5) { lines.append("    e.g. flow \(record.index): \(record.error!)") }
        lines.append(String(format: "  tool CPU: %.0f ms user + %.0f ms sys = %.2f ms/flow, %.2f cores",
                            cpu.userMs, cpu.systemMs, succeeded.isEmpty ? 0 : cpuTotalMs / Double(succeeded.count),
                            outcome.wallSeconds > 0 ? cpuTotalMs / 1000 / outcome.wallSeconds : 0))
        return lines.joined(separator: "\n")
    }

    private func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
