import Foundation
import HTTPTypes
import Hummingbird

/// Adds the headers every response of the reference ACMEEH 2.1 carries:
/// nosniff, frame denial, a closed CSP, HSTS when the request came over https
/// (`RequestOrigin.scheme`, else the scheme of `server.external_url`), the request id
/// (`RequestOriginMiddleware`) and the Server name. Errors thrown by routes get them too.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = ACMERequestContext

    /// `Strict-Transport-Security` value.
    let hsts: String
    /// Whether `server.external_url` is https: the scheme of a request whose own scheme is
    /// unknown (`proxy` off: whatever terminates TLS in front of acmeeh is not described).
    let externalIsHTTPS: Bool

    init(externalURL: String, hstsMaxAgeSeconds: Int) {
        hsts = "max-age=\(hstsMaxAgeSeconds); includeSubDomains"
        externalIsHTTPS = externalURL.lowercased().hasPrefix("https://")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = context.requestID ?? ExtraHeaders.requestID(from: nil)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)"])
            response = JSONResponse.make(
                ["type": "about:blank", "title": "Internal Server Error", "status": 500],
                status: .internalServerError, contentType: "application/problem+json")
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[ExtraHeaders.frameOptions] = "DENY"
        response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        let https = context.origin?.scheme.map { $0 == "https" } ?? externalIsHTTPS
        if https { response.headers[.strictTransportSecurity] = hsts }
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

    /// Keeps an offered request id (one a trusted proxy passed on) when it is 1-128 token
    /// characters (RFC 9110 §5.6.2), else makes one.
    static func requestID(from offered: String?) -> String {
        if let offered, isSaneRequestID(offered) { return offered }
        return RandomBytes.uuid().uuidString.lowercased()
    }

    static func isSaneRequestID(_ text: String) -> Bool {
        text.utf8.count <= 128 && HTTPToken.isToken(text)
    }
}
