import Hummingbird
import Metrics

/// Records every request the router answers: `acmeeh_http_requests_total{method,status}`
/// and `acmeeh_http_request_duration_seconds{method,route,status}`, where `route` is the
/// matched route template (`/acme/order/{id}`; `NotFound` when none matched), so the
/// label set stays bounded. The time runs until the response head is ready. Each series
/// is looked up in the Prometheus registry (one short lock there); nothing else is shared.
/// While `isEnabled()` is false (`metrics.enabled`, reloaded by SIGHUP) it only passes the
/// request on.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let factory: any MetricsFactory
    let isEnabled: @Sendable () -> Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard isEnabled() else { return try await next(request, context) }
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: status, since: started)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let method = request.method.rawValue, code = String(status)
        factory.makeCounter(label: MetricNames.httpRequests, dimensions: [("method", method), ("status", code)])
            .increment(by: 1)
        let (seconds, attoseconds) = elapsed.components
        factory.makeTimer(label: MetricNames.httpRequestDuration,
                          dimensions: [("method", method), ("route", context.endpointPath ?? "NotFound"), ("status", code)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
