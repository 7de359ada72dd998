import Foundation
import Hummingbird

/// Builds HTTP responses whose body is a JSON object.
enum JSONResponse {
    static func make(
        _ object: [String: any Sendable], status: HTTPResponse.Status = .ok,
        contentType: String = "application/json", headers extra: HTTPFields = [:]
    ) -> Response {
        let data = (try? JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: contentType]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
