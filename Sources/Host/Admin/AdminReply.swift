import Foundation
import Hummingbird

/// The admin API's answers: JSON objects and arrays (sorted keys), 204, NDJSON.
enum AdminReply {
    static func json(_ value: Any, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes(value))))
    }

    static func noContent() -> Response { Response(status: .noContent) }

    /// One JSON value per line (`application/x-ndjson`).
    static func ndjson(_ lines: [Any]) -> Response {
        var buffer = ByteBuffer()
        for line in lines {
            buffer.writeBytes(bytes(line))
            buffer.writeString("\n")
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: buffer))
    }

    /// `value` as JSON; `null` for `NSNull` (an unassigned CSR profile) and for anything that
    /// is not a JSON object or array, which JSONSerialization would trap on (not throw).
    static func bytes(_ value: Any) -> [UInt8] {
        guard !(value is NSNull), JSONSerialization.isValidJSONObject(value) else { return Array("null".utf8) }
        return Array((try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]))
                     ?? Data("null".utf8))
    }

    /// A value for JSON: `NSNull` for nil.
    static func value(_ optional: (any Sendable)?) -> Any { optional ?? NSNull() }

    static func date(_ date: Date?) -> Any { date.map(AdminDates.format) ?? NSNull() }

    static func id(_ id: UUID?) -> Any { id.map { $0.uuidString.lowercased() } ?? NSNull() }
}
