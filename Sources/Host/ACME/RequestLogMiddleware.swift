import Hummingbird
import Logging

/// Logs every answered request at debug level: one line `request` with the method, the
/// path (no query), the status and the request id the response carries (`X-Request-ID`,
/// set by `SecurityHeadersMiddleware`, which must run inside this one). Never a header
/// value or a body: those may hold secrets.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        if logger.logLevel <= .debug {
            logger.debug("request", metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
                "request_id": .string(response.headers[ExtraHeaders.requestID] ?? "-"),
            ])
        }
        return response
    }
}
