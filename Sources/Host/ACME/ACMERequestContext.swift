import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basic context plus the peer's
/// address and what `RequestOriginMiddleware` found out about the request: its origin
/// (the client of rate limits, `ACMEGateway.client(_:)`) and its request id.
struct ACMERequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The TCP peer (nil when there is no socket, as in in-process tests).
    let remoteAddress: SocketAddress?
    /// Set by `RequestOriginMiddleware` before any route runs.
    var origin: RequestOrigin?
    /// The `X-Request-ID` of the request and its response; set by `RequestOriginMiddleware`.
    var requestID: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
