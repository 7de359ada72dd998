import Foundation

/// One worker's ACME client (RFC 8555): the directory, the nonce to use next (taken from
/// every answer's `Replay-Nonce`, §7.2), and JWS-signed POSTs, retried once on `badNonce`
/// (§6.5). Every request is bounded by the request timeout and by the run's deadline;
/// when the deadline passes, the flow in progress ends as stalled.
final class ACMESession {
    struct Directory {
        let newNonce: String
        let newAccount: String
        let newOrder: String
    }

    static let badNonce = "urn:ietf:params:acme:error:badNonce"

    private let http: HTTPConnection
    private let directoryURL: String
    private let deadline: Deadline
    private let requestTimeoutMs: Int
    private var cachedDirectory: Directory?
    private var nonce: String?
    private(set) var requests = 0
    private(set) var badNonceRetries = 0

    init(http: HTTPConnection, directoryURL: String, deadline: Deadline, requestTimeoutMs: Int) {
        self.http = http
        self.directoryURL = directoryURL
        self.deadline = deadline
        self.requestTimeoutMs = requestTimeoutMs
    }

    /// The directory (§7.1.1), fetched on first use.
    func directory(_ step: Step) throws -> Directory {
        if let cachedDirectory { return cachedDirectory }
        let response = try send(.get, url: directoryURL, step)
        guard response.status == 200 else { throw unexpected(response, step, "GET directory") }
        let json = try object(response, step)
        guard let newNonce = json["newNonce"] as? String, let newAccount = json["newAccount"] as? String,
              let newOrder = json["newOrder"] as? String else {
            throw FlowError(kind: "protocol:directory", detail: "newNonce, newAccount or newOrder missing", step: step)
        }
        cachedDirectory = Directory(newNonce: newNonce, newAccount: newAccount, newOrder: newOrder)
        return cachedDirectory!
    }

    /// A signed POST (`payload` nil: POST-as-GET, §6.3) with `kid`, or with the JWK when
    /// `kid` is nil (newAccount). Answers of 400 and above become a FlowError named after
    /// the problem type.
    func post(_ url: String, payload: String?, key: KeyPair, kid: String?, step: Step, pem: Bool = false) throws -> HTTPResponse {
        for attempt in 0..<2 {
            let nonce = try takeNonce(step)
            let body = try JWS.flattened(payload: payload, key: key, kid: kid, nonce: nonce, url: url)
            let response = try send(.post(body, pem: pem), url: url, step)
            guard response.status >= 400 else { return response }
            let problem = problemType(response)
            if problem == Self.badNonce && attempt == 0 {
                badNonceRetries += 1
                continue
            }
            throw unexpected(response, step, "POST \(url)")
        }
        fatalError("unreachable: the loop returns or throws")
    }

    /// The body as a JSON object; the answer must say `application/json` (§6.2 resources).
    func object(_ response: HTTPResponse, _ step: Step) throws -> [String: Any] {
        guard let type = response.contentType?.lowercased(), type.hasPrefix("application/json") else {
            throw FlowError(kind: "protocol:content-type", detail: "expected application/json, got \(response.contentType ?? "none")", step: step)
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw FlowError(kind: "protocol:json", detail: "the body is not a JSON object", step: step)
        }
        return json
    }

    /// A FlowError for an answer the flow cannot continue with.
    func unexpected(_ response: HTTPResponse, _ step: Step, _ what: String) -> FlowError {
        if let type = problemType(response) {
            let detail = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["detail"] as? String
            return FlowError(kind: type, detail: "\(what): \(response.status) \(detail ?? "")", step: step)
        }
        return FlowError(kind: "http:\(response.status)", detail: "\(what): unexpected answer", step: step)
    }

    /// Sleeps before the next poll: `pollMs`, or less when the server's Retry-After says so;
    /// throws `stalled` when the run's time is up.
    func pause(pollMs: Int, retryAfter: String?, _ step: Step) throws {
        var interval = pollMs
        if let retryAfter, let seconds = Int(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            interval = min(pollMs, max(10, seconds * 1000))
        }
        interval = min(interval, deadline.remainingMs)
        guard interval > 0 else { throw FlowError.stalled(step) }
        usleep(useconds_t(interval * 1000))
    }

    private func takeNonce(_ step: Step) throws -> String {
        if let nonce {
            self.nonce = nil
            return nonce
        }
        let url = try directory(step).newNonce
        let response = try send(.head, url: url, step)
        guard response.status == 200 || response.status == 204 else { throw unexpected(response, step, "HEAD newNonce") }
        guard let fresh = nonce else {
            throw FlowError(kind: "protocol:nonce", detail: "newNonce gave no Replay-Nonce", step: step)
        }
        nonce = nil
        return fresh
    }

    private func send(_ method: HTTPConnection.Method, url: String, _ step: Step) throws -> HTTPResponse {
        let remaining = deadline.remainingMs
        guard remaining > 0 else { throw FlowError.stalled(step) }
        requests += 1
        switch http.perform(method, url: url, timeoutMs: min(requestTimeoutMs, remaining)) {
        case .success(let response):
            if let fresh = response.replayNonce, !fresh.isEmpty { nonce = fresh }
            return response
        case .failure(let error):
            if deadline.passed { throw FlowError.stalled(step) }
            throw FlowError(kind: error.kind, detail: "\(url): \(error.detail)", step: step)
        }
    }

    private func problemType(_ response: HTTPResponse) -> String? {
        guard response.contentType?.lowercased().hasPrefix("application/problem+json") == true,
              let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else { return nil }
        return json["type"] as? String
    }
}
