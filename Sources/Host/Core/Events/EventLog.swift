import Logging

/// The subscriber that writes every domain event to the log at debug level: one line
/// `event <name>` with the event's context as metadata (the certificate chain left out).
enum EventLog {
    static func subscribe(_ dispatcher: EventDispatcher, logger: Logger) {
        dispatcher.subscribe { event in
            guard logger.logLevel <= .debug else { return }
            var metadata: Logger.Metadata = [:]
            for (key, value) in event.context where key != "pem_chain" { metadata[key] = .string(describe(value)) }
            logger.debug("event \(event.name)", metadata: metadata)
        }
    }

    private static func describe(_ value: any Sendable) -> String {
        switch value {
        case let list as [String]: list.joined(separator: ",")
        case let list as [[String: String]]: list.map { "\($0["type"] ?? ""):\($0["value"] ?? "")" }.joined(separator: ",")
        default: "\(value)"
        }
    }
}
