import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basic context plus the peer's
/// address, from which `ACMEGateway.client(_:)` takes the client of rate limits.
struct ACMERequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The TCP peer (nil when there is no socket, as in in-process tests).
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
