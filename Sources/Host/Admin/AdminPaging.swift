import Foundation
import Hummingbird

/// Paging of every admin list: `limit` (1…`max_page_size`, default `default_page_size`),
/// `offset`, and `cursor` — the opaque position of the last row of the previous page,
/// which every list honours (keyset paging, stable while rows are added). A full page
/// answers `Link: <…?cursor=…&limit=N>; rel="next"` carrying the request's filters.
extension AdminCall {
    func page() throws -> PageRequest {
        let config = api.config
        let limit = try query.int("limit", in: 1...config.maxPageSize) ?? config.defaultPageSize
        let offset = try query.int("offset", in: 0...Int(Int32.max)) ?? 0
        var after: PageCursor? = nil
        if let text = query.string("cursor") {
            guard let cursor = AdminCursor.decode(text) else { throw AdminProblem(.badRequest, "cursor is not valid") }
            after = cursor
        }
        return PageRequest(limit: limit, offset: offset, after: after)
    }

    /// A JSON array of `rows`, with the next page's link when the page is full.
    func pageReply(_ rows: [Any], page: PageRequest, last: PageCursor?) -> Response {
        guard rows.count == page.limit, let last else { return AdminReply.json(rows) }
        var items: [String] = []
        for (name, value) in request.uri.queryParameters where !["cursor", "offset", "limit"].contains(String(name)) {
            items.append("\(Self.escape(String(name)))=\(Self.escape(String(value)))")
        }
        items.append("cursor=\(AdminCursor.encode(last))")
        items.append("limit=\(page.limit)")
        let scheme = context.origin?.scheme ?? "http"
        let host = request.head.authority ?? "localhost"
        let link = "<\(scheme)://\(host)\(request.uri.path)?\(items.joined(separator: "&"))>; rel=\"next\""
        return AdminReply.json(rows, headers: [ACMEGateway.link: link])
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

/// The text of a `PageCursor`: base64url of `MICROSECONDS:UUID`.
enum AdminCursor {
    static func encode(_ cursor: PageCursor) -> String {
        Base64URL.encode(Array("\(cursor.createdAtMicros):\(cursor.id.uuidString.lowercased())".utf8))
    }

    static func decode(_ text: String) -> PageCursor? {
        guard text.count <= 200, let bytes = Base64URL.decode(text) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: ":")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        return PageCursor(createdAtMicros: micros, id: id)
    }
}
