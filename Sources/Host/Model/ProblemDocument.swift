import Foundation

/// RFC 7807 rendering of a `Problem` (RFC 8555 §6.7).
extension Problem {
    /// The HTTP status this problem is sent with.
    var status: Int {
        switch refusal {
        case .badRequest: 400
        case .unauthenticated: 401
        case .forbidden: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .conflict: 409
        case .payloadTooLarge: 413
        case .unsupportedMediaType: 415
        case .tooManyRequests: 429
        case .internalFailure: 500
        case .unavailable: 503
        }
    }

    var document: [String: any Sendable] {
        var object: [String: any Sendable] = ["type": type.urn, "detail": detail, "status": status]
        if !subproblems.isEmpty {
            object["subproblems"] = subproblems.map { sub -> [String: any Sendable] in
                var entry: [String: any Sendable] = ["type": sub.type.urn, "detail": sub.detail]
                if let identifier = sub.identifier {
                    entry["identifier"] = ["type": identifier.type, "value": identifier.value]
                }
                return entry
            }
        }
        if let algorithms { object["algorithms"] = algorithms }
        return object
    }
}

extension Problem {
    /// The problem document as JSON text, for `orders.error` / `challenges.error`.
    var documentJSON: String {
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
