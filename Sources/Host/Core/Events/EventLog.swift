import Logging

/// The subscriber that writes every domain event to the log at debug level: one line
/// `event <name>` with the event's context as metadata (the certificate chain left out).
enum EventLog {
    static func subscribe(_ dispatcher: EventDispatcher, logger: Logger) {
        dispatcher.subscribe { event in
            guard logger.logLevel <= .debug else { return }
            var context = event.context
            context["pem_chain"] = nil
            logger.debug("event \(event.name)", metadata: metadata(context))
        }
    }

    /// Context fields as log metadata: lists joined with commas, identifiers as `type:value`.
    static func metadata(_ fields: [String: any Sendable]) -> Logger.Metadata {
        fields.mapValues { .string(describe($0)) }
    }

    private static func describe(_ value: any Sendable) -> String {
        switch value {
        case let list as [String]: list.joined(separator: ",")
        case let list as [[String: String]]: list.map { "\($0["type"] ?? ""):\($0["value"] ?? "")" }.joined(separator: ",")
        default: "\(value)"
        }
    }
}
