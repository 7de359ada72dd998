import Foundation

/// What a hook receives for one event: the JSON object `{"event", "timestamp", "data"}`,
/// `data` being the event's context fields (DomainEvent.context, the certificate chain
/// included), `timestamp` the time it was published (RFC 3339, UTC).
struct HookPayload: Sendable {
    let event: String
    /// The object as compact JSON text (keys sorted): the body a webhook POSTs.
    let json: String

    init(_ event: DomainEvent, at date: Date = Date()) {
        self.event = event.name
        let object: [String: Any] = [
            "event": event.name,
            "timestamp": date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
            "data": event.context.mapValues { $0 as Any },
        ]
        json = Self.text(object)
    }

    /// Compact JSON of a JSON-ready object, keys sorted, slashes unescaped (`{}` if it is not).
    static func text(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The notification handed to the notifier: the payload as `payload_json`, and for a
    /// mail channel a subject naming the event and the payload, indented, as its body.
    var notification: PluginNotification {
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) ?? [:]
        let pretty = (try? JSONSerialization.data(withJSONObject: object,
                                                  options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? json
        return PluginNotification(event: event, recipients: [], subject: "acmeeh: \(event)", body: pretty + "\n",
                                  payloadJSON: json)
    }
}
