import Foundation
import HTTPTypes
import Hummingbird

/// Adds the headers every response of the reference ACMEEH 2.1 carries:
/// nosniff, frame denial, a closed CSP, HSTS when served over https, the request id
/// (echoed or new) and the Server name. Errors thrown by routes get them too.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// `Strict-Transport-Security` value, or nil when the external URL is not https.
    let hsts: String?

    init(externalURL: String, hstsMaxAgeSeconds: Int) {
        hsts = externalURL.lowercased().hasPrefix("https://")
            ? "max-age=\(hstsMaxAgeSeconds); includeSubDomains" : nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = ExtraHeaders.requestID(from: request.headers[ExtraHeaders.requestID])
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)", "request_id": "\(requestID)"])
            response = JSONResponse.make(
                ["type": "about:blank", "title": "Internal Server Error", "status": 500],
                status: .internalServerError, contentType: "application/problem+json")
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[ExtraHeaders.frameOptions] = "DENY"
        response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        if let hsts { response.headers[.strictTransportSecurity] = hsts }
        response.headers[ExtraHeaders.requestID] = requestID
        response.headers[.server] = "acmeeh"
        return response
    }
}

/// Header names HTTPTypes does not predefine.
enum ExtraHeaders {
    static let requestID = HTTPField.Name("X-Request-ID")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let replayNonce = HTTPField.Name("Replay-Nonce")!

    /// Echoes a client's request id when it is short and printable, else makes one.
    static func requestID(from header: String?) -> String {
        if let header, (1...128).contains(header.utf8.count),
           header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return header
        }
        return RandomBytes.uuid().uuidString.lowercased()
    }
}
