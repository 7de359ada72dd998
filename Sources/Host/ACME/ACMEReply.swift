import Foundation

/// What an ACME resource handler answers; the gateway adds the protocol-wide headers.
struct ACMEReply: Sendable {
    enum Body: Sendable {
        case json([String: any Sendable])
        /// `application/pem-certificate-chain` (RFC 8555 §7.4.2).
        case pemChain(String)
        case empty
    }

    var status: Int = 200
    var body: Body
    var location: String? = nil
    /// `Link` values besides `rel="index"`: (URL, rel).
    var links: [(String, String)] = []
    var retryAfter: Int? = nil
    var extraHeaders: [(String, String)] = []

    init(status: Int = 200, _ body: Body, location: String? = nil) {
        self.status = status
        self.body = body
        self.location = location
    }
}
