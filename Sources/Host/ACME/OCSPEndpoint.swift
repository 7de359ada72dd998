import Foundation
import Hummingbird
import NIOCore

/// The OCSP responder over HTTP (RFC 6960 Appendix A.1): `POST {ocsp.path}` with a DER
/// OCSPRequest body (at most `maxRequestBytes`), and `GET {ocsp.path}/{request}` with the
/// request's base64 (URL-encoded, or base64url) in the path, whose successful answers are
/// cacheable until their nextUpdate (RFC 5019 §6). Every answer is an
/// `application/ocsp-response` with HTTP 200, errors included (malformedRequest, tryLater).
struct OCSPEndpoint: Sendable {
    let responder: OCSPResponder

    /// Larger request bodies are malformed requests.
    static let maxRequestBytes = 8192

    func register<Context: RequestContext>(on router: Router<Context>, path: String) {
        let responder = self.responder
        router.post(RouterPath(path)) { request, _ in
            guard let body = try? await request.body.collect(upTo: Self.maxRequestBytes) else {
                return Self.response(OCSPResponder.Answer(OCSPResponseBuilder.error(.malformedRequest)), cacheable: false)
            }
            return Self.response(await responder.respond(to: Array(buffer: body)), cacheable: false)
        }
        let prefix = path + "/"
        router.get(RouterPath(prefix + "**")) { request, _ in
            let raw = request.uri.path
            guard raw.hasPrefix(prefix), let der = Self.decode(String(raw.dropFirst(prefix.count))) else {
                return Self.response(OCSPResponder.Answer(OCSPResponseBuilder.error(.malformedRequest)), cacheable: false)
            }
            return Self.response(await responder.respond(to: der), cacheable: true)
        }
    }

    /// The DER of a GET request's path part: percent-decoded base64 (`+`, `/`, `=`), or base64url.
    static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.count <= maxRequestBytes * 2, let decoded = text.removingPercentEncoding else { return nil }
        // Standard base64 (padded or not) spelled as base64url, then the strict decoder.
        let url = decoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        guard let bytes = Base64URL.decode(url.trimmingCharacters(in: CharacterSet(charactersIn: "="))),
              !bytes.isEmpty, bytes.count <= maxRequestBytes else { return nil }
        return bytes
    }

    static func response(_ answer: OCSPResponder.Answer, cacheable: Bool, now: Date = Date()) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/ocsp-response"
        if cacheable, let thisUpdate = answer.thisUpdate, let nextUpdate = answer.nextUpdate {
            CacheUntilHeaders.add(to: &headers, thisUpdate: thisUpdate, nextUpdate: nextUpdate, now: now,
                                  directives: "no-transform, must-revalidate")
        } else {
            headers[.cacheControl] = "no-store"
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.der)))
    }
}
