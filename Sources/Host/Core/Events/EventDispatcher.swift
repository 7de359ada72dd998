import NIOConcurrencyHelpers

/// The one path by which domain events leave Core: each operation publishes the events
/// of a committed change, in the order they happened, and every subscriber sees them in
/// that order. Subscribers run on the publisher's task and must not block; one that has
/// slow work to do (a webhook, an e-mail) queues it.
final class EventDispatcher: Sendable {
    typealias Subscriber = @Sendable (DomainEvent) -> Void

    private let subscribers = NIOLockedValueBox<[Subscriber]>([])

    init() {}

    func subscribe(_ subscriber: @escaping Subscriber) {
        subscribers.withLockedValue { $0.append(subscriber) }
    }

    /// Hands the events of one committed change to every subscriber.
    func publish(_ events: DomainEvent...) {
        let current = subscribers.withLockedValue { $0 }
        for event in events {
            for subscriber in current { subscriber(event) }
        }
    }
}
