import Metrics

/// The observer that counts hook deliveries: `acmeeh_hook_deliveries_total{event, result}`,
/// `result` being `delivered`, `retried` (an attempt that failed and will be retried) or
/// `dead_lettered`. The series of the events some hook receives are made at once, so they
/// read 0 before their first delivery.
extension ServerMetrics {
    static let hookDeliveries = "acmeeh_hook_deliveries_total"

    func hookObserver(events: Set<String>) -> HookObserver {
        var counters: [String: Metrics.Counter] = [:]
        for event in events {
            for result in HookDeliveryResult.allCases {
                counters["\(event) \(result.rawValue)"] = counter(Self.hookDeliveries,
                                                                  [("event", event), ("result", result.rawValue)])
            }
        }
        return HookObserver(counted: { [counters] event, result in
            counters["\(event) \(result.rawValue)"]?.increment()
        })
    }
}
