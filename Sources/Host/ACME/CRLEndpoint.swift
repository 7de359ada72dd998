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
        CacheUntilHeaders.add(to: &headers, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, now: now)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: crl.der)))
    }
}
