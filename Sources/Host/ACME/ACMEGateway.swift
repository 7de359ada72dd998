import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The one wrapper around every ACME resource: it applies the protocol-wide rules of
/// RFC 8555 so that no route can forget one — a fresh `Replay-Nonce` (§6.5),
/// `Link: <directory>;rel="index"` (§7.1), `Cache-Control: no-store`, the request body
/// limit, `application/jose+json` (§6.2), JWS verification, nonce redemption, the
/// signer's account — and renders every `Problem` as an RFC 7807 document.
struct ACMEGateway: Sendable {
    /// Who may sign a resource's requests (RFC 8555 §6.2).
    enum Signer: Sendable {
        /// `kid` of an existing, valid account.
        case account
        /// `jwk`: newAccount.
        case key
        /// Either: revokeCert (§7.6).
        case accountOrKey
    }

    let config: AppConfig
    let urls: ACMEURLs
    let database: Database
    let nonces: Nonces
    let maintenance: MaintenanceMode
    let jwkCache = JWKCache()
    let accountCache = AccountCache()
    let rateLimiter: RateLimiter
    /// Where refused JWSs and rate-limit hits are reported (the audit log subscribes).
    let events: EventDispatcher
    let logger: Logger

    // MARK: Routes

    /// Registers a POST resource. A `kid`-signed request is verified against the cached
    /// account key; the request hands its guard (the nonce and, for `kid`, the signer
    /// check) to the first batch its Core operation sends, and the guard of a request that
    /// sent no batch is redeemed at its end. `limit` counts the request against a rate limit
    /// per client: refused by the memory backend before the nonce is spent, or counted by
    /// the first batch's guard with the database backend. A resource `pausable` by
    /// maintenance mode is refused before its request is verified, so the refusal spends no nonce.
    func post(_ router: Router<ACMERequestContext>, _ path: String, signer: Signer, limit: RateLimit? = nil,
              pausable: Bool = false,
              _ handler: @escaping @Sendable (ACMERequest) async throws -> ACMEReply) {
        router.post(RouterPath(path)) { request, context in
            await self.respond(request, context) {
                if pausable { try self.maintenance.checkOpen() }
                let verified = try await self.verify(request, context, signer: signer)
                if let limit { try await self.rateLimiter.admit(limit, key: Self.client(context), verified.requestGuard) }
                do {
                    let reply = try await handler(verified)
                    try await self.redeemUntaken(verified)
                    return reply
                } catch let error as StoreError {
                    throw self.guardProblem(error, verified) ?? error
                } catch {
                    // The request failed before its batch: its nonce is used up all the same,
                    // and a replay or a stale signer is the answer that counts.
                    try await self.redeemUntaken(verified)
                    throw error
                }
            }
        }
        refuseOtherMethods(router, path, allowed: "POST")
    }

    /// Sends the guard of a request whose handler sent no batch (nonce-only: committed
    /// without waiting for the flush); maps a failed guard.
    private func redeemUntaken(_ request: ACMERequest) async throws {
        guard let requestGuard = request.requestGuard, !requestGuard.isTaken else { return }
        do {
            _ = try await database.runBatch(after: requestGuard, [], asynchronousCommit: true)
        } catch let error as StoreError {
            throw guardProblem(error, request) ?? error
        }
    }

    /// The problem of a failed request guard: a replayed nonce (RFC 8555 §6.5) or a signer
    /// whose key or status changed since it was cached (§7.3.5, §7.3.6).
    func guardProblem(_ error: StoreError, _ request: ACMERequest) -> Problem? {
        switch error.kind {
        case .nonceReplayed:
            return Self.usedNonce
        case .guardFailed where error.guardName == BatchStatement.signerGuardName:
            if let account = request.account { accountCache.forget(account.id) }
            return Problem(.unauthorized, "the account's key or status changed; the request is not authorized by it",
                           refusal: .unauthenticated)
        default:
            return RateLimiter.problem(from: error)
        }
    }

    /// Registers newNonce (§7.2): HEAD 200, GET 204, both with a nonce; and POST-as-GET (§6.3).
    /// All three count against `new_nonce`.
    func newNonce(_ router: Router<ACMERequestContext>, _ path: String) {
        router.head(RouterPath(path)) { request, context in
            await self.respond(request, context) {
                try await self.rateLimiter.admit(.newNonce, key: Self.client(context), nil)
                return ACMEReply(status: 200, .empty)
            }
        }
        router.get(RouterPath(path)) { request, context in
            await self.respond(request, context) {
                try await self.rateLimiter.admit(.newNonce, key: Self.client(context), nil)
                return ACMEReply(status: 204, .empty)
            }
        }
        // §7.2 gives the status of HEAD (200) and GET (204) only; a POST-as-GET is the GET
        // done as a signed POST (§6.3), so it answers as GET does: 204, the nonce in the
        // header. (The request's own nonce is spent: a POST always redeems one, §6.5.)
        postAsGet(router, path, limit: .newNonce) { ACMEReply(status: 204, .empty) }
    }

    /// Registers POST-as-GET on a resource that is also served by GET (the directory and
    /// newNonce): RFC 8555 §6.3 says the server MUST allow it "in addition to" GET. The
    /// JWS is verified as every POST's (signed by an account, §6.2) and must be empty.
    func postAsGet(_ router: Router<ACMERequestContext>, _ path: String, limit: RateLimit? = nil,
                   _ reply: @escaping @Sendable () -> ACMEReply) {
        router.post(RouterPath(path)) { request, context in
            await self.respond(request, context) {
                let verified = try await self.verify(request, context, signer: .account)
                if let limit { try await self.rateLimiter.admit(limit, key: Self.client(context), verified.requestGuard) }
                try await self.redeemUntaken(verified)
                guard verified.isPostAsGet else {
                    throw Problem(.malformed, "this resource accepts only POST-as-GET: the payload must be empty")
                }
                return reply()
            }
        }
    }

    /// GET on a POST-only resource gets a problem with `Allow`, not a bare 404.
    private func refuseOtherMethods(_ router: Router<ACMERequestContext>, _ path: String, allowed: String) {
        router.get(RouterPath(path)) { _, context in
            await self.respond(context) {
                var problem = Problem(.malformed, "this resource accepts \(allowed) only (RFC 8555 §6.3: POST-as-GET)",
                                      refusal: .methodNotAllowed)
                problem.headers["Allow"] = allowed
                throw problem
            }
        }
    }

    /// The client a per-client rate limit counts: the request's origin (`ForwardedClient`:
    /// the peer's IP address, or the client a trusted proxy names).
    static func client(_ context: ACMERequestContext) -> String {
        context.origin?.clientIP ?? context.remoteAddress?.ipAddress ?? "unknown"
    }

    // MARK: Verification (RFC 8555 §6.2–6.5)

    /// `verify`, reporting a refused JWS to the audit log. A stale nonce is no security
    /// event (clients retry it, §6.5), so `badNonce` is not reported.
    private func verify(_ request: Request, _ context: ACMERequestContext, signer: Signer) async throws -> ACMERequest {
        do {
            var verified = try await verify(request, signer: signer)
            verified.clientIP = Self.client(context)
            return verified
        } catch let problem as Problem where problem.type != .badNonce {
            report(.jws, problem, request, context)
            throw problem
        }
    }

    /// Publishes a refusal with the request's path and the peer's address.
    private func report(_ kind: DomainEvent.RefusedRequest.Kind, _ problem: Problem, _ request: Request,
                        _ context: ACMERequestContext) {
        events.publish(.requestRefused(.init(kind: kind, problem: problem.type.rawValue, detail: problem.detail,
                                             path: request.uri.path, clientIP: Self.client(context))))
    }

    private func verify(_ request: Request, signer: Signer) async throws -> ACMERequest {
        // §6.2: the JWS media type.
        let contentType = request.headers[.contentType] ?? ""
        guard contentType.lowercased().hasPrefix("application/jose+json") else {
            throw Problem(.malformed, "Content-Type must be application/jose+json", refusal: .unsupportedMediaType)
        }
        let limit = config.security.maxRequestBodyBytes
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw Problem(.malformed, "request body exceeds \(limit) bytes", refusal: .payloadTooLarge)
        }
        let jws = try FlattenedJWS.parse(Array(body.readableBytesView))
        let header = jws.header

        // §6.2: only the algorithms this server allows.
        let allowed = config.security.allowedAlgorithms.map(\.rawValue)
        guard allowed.contains(header.alg.rawValue) else {
            // `respond` adds the `algorithms` list to every badSignatureAlgorithm problem.
            throw Problem(.badSignatureAlgorithm,
                          "algorithm \(header.alg.rawValue) is not allowed here (allowed: \(allowed.joined(separator: ", ")))")
        }
        // §6.4: the signed URL is the URL of the request.
        let requestURL = urls.base + request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        let url = header.url
        guard url == requestURL else {
            throw Problem(.unauthorized, "the signed url \(url) is not the request URL \(requestURL)")
        }
        guard let nonce = header.nonce else { throw Problem(.badNonce, "protected header lacks \"nonce\"") }
        guard let nonceExpiry = nonces.expiry(of: nonce) else { throw Self.usedNonce }

        // §6.2: jwk for newAccount (and revokeCert by certificate key), kid otherwise.
        // §6.5: each nonce once — recorded by the request's first batch (its guard).
        var account: Account?
        var key: JWK
        var requestGuard: RequestGuard?
        switch (signer, header.kid, header.jwk) {
        case (.account, let kid?, nil), (.accountOrKey, let kid?, nil):
            // The cached key verifies; the batch's guard re-checks it in PostgreSQL.
            let found = try await cachedAccount(try accountID(kid: kid), kid: kid)
            account = found
            key = try jwkCache.jwk(json: found.jwk)
        case (.key, nil, let jwk?), (.accountOrKey, nil, let jwk?):
            try keyPolicy.check(jwk)
            requestGuard = RequestGuard(nonce: nonce, nonceExpiry: nonceExpiry, account: nil)
            key = jwk
        case (.account, nil, _):
            throw Problem(.malformed, "this resource must be signed with \"kid\", the account URL")
        case (.key, _, nil):
            throw Problem(.malformed, "this resource must be signed with \"jwk\", the account key")
        default:
            throw Problem(.malformed, "protected header must carry exactly one of \"jwk\" and \"kid\"")
        }
        try header.alg.checkKey(key)
        var verified = jws.verify(key: key)
        if !verified, let cached = account, let kid = header.kid {
            // The key may have rolled over at another instance since it was cached.
            accountCache.forget(cached.id)
            let found = try await cachedAccount(cached.id, kid: kid)
            account = found
            key = try jwkCache.jwk(json: found.jwk)
            try header.alg.checkKey(key)
            verified = jws.verify(key: key)
        }
        guard verified else {
            throw Problem(.malformed, "JWS signature verification failed")
        }
        if requestGuard == nil, let account {
            requestGuard = RequestGuard(nonce: nonce, nonceExpiry: nonceExpiry, account: (account.id, account.thumbprint))
        }
        // §7.3.6: a deactivated or revoked account can do nothing.
        if let account { _ = try CoreServices.usable(account) }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        return ACMERequest(url: url, jws: jws, account: account, key: key, query: query, requestGuard: requestGuard)
    }

    /// The account of `id` from the cache, else from the database (one round trip, cached).
    private func cachedAccount(_ id: UUID, kid: String) async throws -> Account {
        if let cached = accountCache.account(id) { return cached }
        guard let found = try await database.withConnection({ try $0.account(id: id) }) else {
            throw Problem(.accountDoesNotExist, "no account \(kid)")
        }
        accountCache.remember(found)
        return found
    }

    var keyPolicy: KeyPolicy {
        KeyPolicy(config.security)
    }

    static let usedNonce = Problem(.badNonce, "the nonce is unknown, expired or already used")

    /// The account id a `kid` names: `<base>/acct/<uuid>`.
    private func accountID(kid: String) throws(Problem) -> UUID {
        let prefix = urls.absolute("/acct/")
        guard kid.hasPrefix(prefix), let id = UUID(uuidString: String(kid.dropFirst(prefix.count))) else {
            throw Problem(.accountDoesNotExist, "kid \(kid) is not an account URL of this server")
        }
        return id
    }

    // MARK: Responses

    /// `Link` (RFC 8288); HTTPTypes has no predefined name for it.
    static let link = HTTPField.Name("Link")!

    /// `respond` for a routed request: a rate-limit refusal is reported to the audit log.
    func respond(_ request: Request, _ context: ACMERequestContext,
                 _ body: @escaping @Sendable () async throws -> ACMEReply) async -> Response {
        await respond(context) {
            do {
                return try await body()
            } catch let problem as Problem where problem.type == .rateLimited {
                self.report(.rateLimit, problem, request, context)
                throw problem
            }
        }
    }

    /// Runs a handler and renders its reply or its problem, with the protocol-wide headers.
    /// Errors are logged with the request's logger (its `client_ip` and `request_id`).
    func respond(_ context: ACMERequestContext, _ body: @Sendable () async throws -> ACMEReply) async -> Response {
        let logger = context.logger
        var headers: HTTPFields = [:]
        headers.append(HTTPField(name: Self.link, value: "<\(urls.directory)>;rel=\"index\""))
        headers[.cacheControl] = "no-store"
        let status: Int
        let bytes: [UInt8]
        do {
            let reply = try await body()
            status = reply.status
            if let location = reply.location { headers[.location] = location }
            for (url, rel) in reply.links { headers.append(HTTPField(name: Self.link, value: "<\(url)>;rel=\"\(rel)\"")) }
            if let retryAfter = reply.retryAfter { headers[.retryAfter] = String(retryAfter) }
            for (name, value) in reply.extraHeaders { if let name = HTTPField.Name(name) { headers[name] = value } }
            switch reply.body {
            case .json(let object):
                headers[.contentType] = "application/json"
                bytes = JSONResponse.bytes(object)
            case .pemChain(let pem):
                headers[.contentType] = "application/pem-certificate-chain"
                bytes = Array(pem.utf8)
            case .empty:
                bytes = []
            }
        } catch {
            var problem = Self.problem(from: error, logger: logger)
            // §6.2: every badSignatureAlgorithm problem lists the algorithms accepted.
            if problem.type == .badSignatureAlgorithm && problem.algorithms == nil {
                problem.algorithms = config.security.allowedAlgorithms.map(\.rawValue)
            }
            status = problem.status
            headers[.contentType] = "application/problem+json"
            for (name, value) in problem.headers { if let name = HTTPField.Name(name) { headers[name] = value } }
            bytes = JSONResponse.bytes(problem.document)
        }
        // §6.5: every response carries a fresh nonce, errors included (badNonce above all).
        do {
            headers[ExtraHeaders.replayNonce] = try nonces.issue()
        } catch {
            logger.error("cannot issue a nonce", metadata: ["error": "\(error)"])
        }
        return Response(status: .init(code: status), headers: headers,
                         body: bytes.isEmpty ? .init() : .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func problem(from error: any Error, logger: Logger) -> Problem {
        if let problem = error as? Problem { return problem }
        if let store = error as? StoreError, store.isUnavailable {
            return Problem(.serverInternal, "the database is unavailable; try again", refusal: .unavailable,
                           headers: ["Retry-After": "5"])
        }
        logger.error("request failed", metadata: ["error": "\(error)"])
        return Problem(.serverInternal, "internal error")
    }
}
