import Foundation
import Hummingbird

/// Builds HTTP responses whose body is a JSON object.
enum JSONResponse {
    static func make(
        _ object: [String: any Sendable], status: HTTPResponse.Status = .ok,
        contentType: String = "application/json", headers extra: HTTPFields = [:]
    ) -> Response {
        var headers: HTTPFields = [.contentType: contentType]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes(object))))
    }

    /// The object as compact JSON with sorted keys: the one serialization of every JSON body
    /// and of the CLI's `--json` output.
    static func bytes(_ object: [String: Any]) -> [UInt8] {
        if let fast = JSONWriter.write(object) { return fast }
        return Array((try? JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8))
    }
}
