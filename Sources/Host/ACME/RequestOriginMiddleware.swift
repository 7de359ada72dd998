import Hummingbird
import Logging

/// Works out who sent each request before any route runs: its origin (`ForwardedClient`:
/// the client address, and the scheme a trusted proxy reports) and its request id — an
/// `X-Request-ID` a trusted proxy passed on when it is sane, else a new one. Both go into
/// the context and into the metadata of the request's logger (`client_ip`, `request_id`),
/// and one `request` line is logged for each answer (at debug level for `probePaths`: the
/// health endpoints and the metrics scrape, which orchestrators call every few seconds).
struct RequestOriginMiddleware: RouterMiddleware {
    typealias Context = ACMERequestContext

    let forwarded: ForwardedClient
    var probePaths: Set<String> = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let origin = forwarded.origin(peer: context.remoteAddress?.ipAddress, headers: request.headers)
        let offered = origin.viaTrustedProxy ? request.headers[ExtraHeaders.requestID] : nil
        let requestID = ExtraHeaders.requestID(from: offered)
        context.origin = origin
        context.requestID = requestID
        context.logger[metadataKey: "client_ip"] = "\(origin.clientIP)"
        context.logger[metadataKey: "request_id"] = "\(requestID)"
        let logger = context.logger
        let level: Logger.Level = probePaths.contains(request.uri.path) ? .debug : .info
        do {
            let response = try await next(request, context)
            logger.log(level: level, "request", metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
            ])
            return response
        } catch {
            logger.log(level: level, "request", metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "error": "\(error)",
            ])
            throw error
        }
    }
}
