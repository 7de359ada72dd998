import Foundation
import Hummingbird
import NIOCore

/// `GET {crl.path}`: the primary CA backend's CRL as stored in `crl_cache` (the same bytes
/// at every instance), DER, `application/pkix-crl` (RFC 5280 §4.2.1.13, RFC 2585 §4.2),
/// cacheable until its nextUpdate; `{crl.path}/N` the CRL of the N-th `ca.failover` backend.
/// 503 with `Retry-After` before the first CRL is built.
struct CRLEndpoint: Sendable {
    let publisher: CRLPublisher

    func register<Context: RequestContext>(on router: Router<Context>, config: CrlConfig) {
        for (index, backend) in publisher.backends.enumerated() {
            router.get(RouterPath(config.path(forBackendAt: index))) { _, _ in try await response(backend) }
        }
    }

    func response(_ backend: String, now: Date = Date()) async throws -> Response {
        guard let crl = try await publisher.current(backend) else {
            var headers = HTTPFields()
            headers[.retryAfter] = String(CRLPublisher.checkSeconds)
            return Response(status: .serviceUnavailable, headers: headers)
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/pkix-crl"
        let maxAge = max(0, Int(crl.nextUpdate.timeIntervalSince(now)))
        headers[.cacheControl] = "public, max-age=\(maxAge), no-transform"
        headers[.lastModified] = crl.thisUpdate.formatted(Self.httpDate)
        headers[.expires] = crl.nextUpdate.formatted(Self.httpDate)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: crl.der)))
    }

    /// RFC 9110 §5.6.7 IMF-fixdate.
    static let httpDate = Date.VerbatimFormatStyle(
        format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
        locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "GMT")!, calendar: Calendar(identifier: .gregorian))
}
