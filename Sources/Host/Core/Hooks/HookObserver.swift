/// How a hook delivery attempt ended, as `acmeeh_hook_deliveries_total{result}` counts it.
enum HookDeliveryResult: String, Sendable, CaseIterable {
    /// The notifier accepted the event.
    case delivered
    /// The attempt failed with a retryable error and will be retried after its backoff.
    case retried
    /// The delivery failed for good (a final error, retries used up, the queue full, or
    /// shutdown) and went to the dead-letter log.
    case deadLettered = "dead_lettered"
}

/// Told of every hook delivery outcome (the metrics count them). Called on a hook worker,
/// or on the publisher's task when the queue is full: must not block.
struct HookObserver: Sendable {
    var counted: @Sendable (_ event: String, _ result: HookDeliveryResult) -> Void = { _, _ in }

    /// Observes nothing.
    static let none = HookObserver()
}
