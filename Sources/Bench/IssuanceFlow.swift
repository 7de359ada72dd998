import Foundation

/// An ACME account the tool created: its key and its URL (the JWS `kid`).
struct Account {
    let key: KeyPair
    let url: String
}

/// What every flow of a run shares.
struct FlowSettings {
    let names: Int
    let domain: String
    let certificateKey: KeyPair.Kind
    let pollMs: Int
}

/// One full issuance (RFC 8555 §7.3–§7.4.2): account, order for K names, http-01 for each
/// pending authorization, finalize with a fresh key's CSR, certificate download and check.
/// Returns the milliseconds each step took.
struct IssuanceFlow {
    let session: ACMESession
    let responder: ChallengeResponder
    let settings: FlowSettings

    func run(index: Int, reuse account: inout Account?) throws -> [Step: Double] {
        var timings: [Step: Double] = [:]
        func timed<T>(_ step: Step, _ body: () throws -> T) rethrows -> T {
            let start = Deadline.now()
            defer { timings[step, default: 0] += elapsedMs(since: start) }
            return try body()
        }
        let names = (0..<settings.names).map { "f\(index)-\($0).\(settings.domain)" }
        let current = try account ?? timed(.newAccount) { try newAccount() }
        account = current
        let order = try timed(.newOrder) { try newOrder(names, current) }
        try timed(.authorization) {
            for url in order.authorizations { try authorize(url, current) }
        }
        // The tool's own key generation stays out of the server's step timings.
        let key = try KeyPair(settings.certificateKey)
        let csr = Base64URL.encode(try CertificateRequest.der(names: names, key: key))
        let certificateURL = try timed(.finalize) { try finalize(order, csr: csr, current) }
        try timed(.certificate) { try download(certificateURL, names, current) }
        return timings
    }

    private struct Order {
        let url: String
        let authorizations: [String]
        let finalize: String
    }

    /// §7.3: a new account with a fresh P-256 key.
    private func newAccount() throws -> Account {
        let key = try KeyPair(.ec256)
        let url = try session.directory(.newAccount).newAccount
        let response = try session.post(url, payload: #"{"termsOfServiceAgreed":true}"#, key: key, kid: nil, step: .newAccount)
        guard response.status == 201 || response.status == 200, let location = response.location else {
            throw session.unexpected(response, .newAccount, "newAccount (expected 201 with Location)")
        }
        return Account(key: key, url: location)
    }

    /// §7.4: an order for `names`.
    private func newOrder(_ names: [String], _ account: Account) throws -> Order {
        let identifiers = names.map { #"{"type":"dns","value":\#(JSONText.quote($0))}"# }.joined(separator: ",")
        let url = try session.directory(.newOrder).newOrder
        let response = try session.post(url, payload: #"{"identifiers":[\#(identifiers)]}"#,
                                         key: account.key, kid: account.url, step: .newOrder)
        guard response.status == 201, let location = response.location else {
            throw session.unexpected(response, .newOrder, "newOrder (expected 201 with Location)")
        }
        let json = try session.object(response, .newOrder)
        guard let authorizations = json["authorizations"] as? [String], authorizations.count == names.count,
              let finalize = json["finalize"] as? String else {
            throw FlowError(kind: "protocol:order", detail: "no finalize URL or not one authorization per name", step: .newOrder)
        }
        return Order(url: location, authorizations: authorizations, finalize: finalize)
    }

    /// §7.5: fetch the authorization; unless it is already valid, answer its http-01
    /// challenge (§7.5.1, §8.3) and poll until the server has validated it.
    private func authorize(_ url: String, _ account: Account) throws {
        var json = try fetch(url, account, .authorization)
        if json.status == "valid" { return }
        guard json.status == "pending" else { throw invalid("authorization", json.body, .authorization) }
        guard let challenges = json.body["challenges"] as? [[String: Any]],
              let challenge = challenges.first(where: { $0["type"] as? String == "http-01" }),
              let token = challenge["token"] as? String, let challengeURL = challenge["url"] as? String else {
            throw FlowError(kind: "protocol:authorization", detail: "no http-01 challenge offered", step: .authorization)
        }
        responder.publish(token: token, keyAuthorization: "\(token).\(account.key.thumbprint)")
        defer { responder.withdraw(token: token) }
        let answer = try session.post(challengeURL, payload: "{}", key: account.key, kid: account.url, step: .authorization)
        guard answer.status == 200 else { throw session.unexpected(answer, .authorization, "challenge") }
        let challengeState = try session.object(answer, .authorization)
        if challengeState["status"] as? String == "valid" { return }  // §7.1.6: the authorization is valid with it
        var retryAfter = answer.retryAfter
        while true {
            try session.pause(pollMs: settings.pollMs, retryAfter: retryAfter, .authorization)
            json = try fetch(url, account, .authorization)
            retryAfter = json.retryAfter
            switch json.status {
            case "valid": return
            case "pending", "processing": continue
            default: throw invalid("authorization", json.body, .authorization)
            }
        }
    }

    /// §7.4: finalize with the CSR (base64url DER) and poll the order until it is valid.
    private func finalize(_ order: Order, csr: String, _ account: Account) throws -> String {
        let response = try session.post(order.finalize, payload: #"{"csr":"\#(csr)"}"#,
                                        key: account.key, kid: account.url, step: .finalize)
        guard response.status == 200 else { throw session.unexpected(response, .finalize, "finalize") }
        var json = try session.object(response, .finalize)
        var retryAfter = response.retryAfter
        while true {
            switch json["status"] as? String {
            case "valid":
                guard let certificate = json["certificate"] as? String else {
                    throw FlowError(kind: "protocol:order", detail: "a valid order without a certificate URL", step: .finalize)
                }
                return certificate
            case "processing", "ready", "pending":
                try session.pause(pollMs: settings.pollMs, retryAfter: retryAfter, .finalize)
                let polled = try fetch(order.url, account, .finalize)
                json = polled.body
                retryAfter = polled.retryAfter
            default:
                throw invalid("order", json, .finalize)
            }
        }
    }

    /// §7.4.2: the chain as `application/pem-certificate-chain`, checked with OpenSSL.
    private func download(_ url: String, _ names: [String], _ account: Account) throws {
        let response = try session.post(url, payload: nil, key: account.key, kid: account.url, step: .certificate, pem: true)
        guard response.status == 200 else { throw session.unexpected(response, .certificate, "certificate") }
        guard response.contentType?.lowercased().hasPrefix("application/pem-certificate-chain") == true else {
            throw FlowError(kind: "protocol:content-type", detail: "certificate as \(response.contentType ?? "none")", step: .certificate)
        }
        if let problem = IssuedCertificate.problem(pem: response.body, names: names) {
            throw FlowError(kind: "check:certificate", detail: problem, step: .certificate)
        }
    }

    private func fetch(_ url: String, _ account: Account, _ step: Step) throws -> (status: String?, body: [String: Any], retryAfter: String?) {
        let response = try session.post(url, payload: nil, key: account.key, kid: account.url, step: step)
        guard response.status == 200 else { throw session.unexpected(response, step, "POST-as-GET") }
        let json = try session.object(response, step)
        return (json["status"] as? String, json, response.retryAfter)
    }

    /// An object that ended invalid (or in a state no flow expects), named by the problem
    /// it carries: the order's `error`, or the first challenge `error` of an authorization.
    private func invalid(_ what: String, _ json: [String: Any], _ step: Step) -> FlowError {
        let status = json["status"] as? String ?? "no status"
        var problem = json["error"] as? [String: Any]
        if problem == nil, let challenges = json["challenges"] as? [[String: Any]] {
            problem = challenges.lazy.compactMap { $0["error"] as? [String: Any] }.first
        }
        if let type = problem?["type"] as? String {
            return FlowError(kind: type, detail: "\(what) \(status): \(problem?["detail"] as? String ?? "")", step: step)
        }
        return FlowError(kind: "\(what):\(status)", detail: "\(what) is \(status)", step: step)
    }
}
