import CCurl
import PluginAPI
import PluginKit
import PluginNetwork

/// The http-01 validator (RFC 8555 §8.3; IP identifiers per RFC 8738 §3).
nonisolated(unsafe) let descriptor = PluginDescriptor.challenge(
    name: "ChallengeHTTP01", version: "0.1.0",
    description: "http-01 validator (challenges.http01): libcurl with pinned, SSRF-checked addresses, libldns resolution",
    types: [ChallengeTypeInfo("http-01", identifierTypes: ACMEEH_IDENTIFIER_DNS | ACMEEH_IDENTIFIER_IP)],
    create: { createInstance(ChallengeHTTP01.self, $0, $1, $2) })

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

final class ChallengeHTTP01: ChallengeInstance {
    /// Redirects followed at most (as Let's Encrypt).
    static let maxRedirects = 10

    let config: HTTP01Config
    let challengeType: String
    let log: HostLog

    init(_ context: CreateContext) throws {
        challengeType = context.challengeType ?? "http-01"
        guard challengeType == "http-01" else {
            throw PluginError.config("\(context.configPath): ChallengeHTTP01 serves http-01, not \(challengeType)")
        }
        config = try context.decodeConfig(HTTP01Config.self)
        log = context.log
        guard curlGlobalInit == CURLE_OK else {
            throw PluginError.internal("\(context.configPath): libcurl failed to initialise (curl_global_init returned \(curlGlobalInit.rawValue))")
        }
    }

    func validate(_ request: ChallengeRequest) throws {
        guard let token = request.token, let keyAuthorization = request.keyAuthorization else {
            throw PluginError.invalidInput("http-01 needs a token and a key authorization")
        }
        // RFC 8555 §8.3: the token is base64url; anything else must not reach a URL path.
        guard !token.isEmpty, token.utf8.allSatisfy(isBase64URL) else {
            throw PluginError.invalidInput("the token is not base64url text")
        }
        let host: String
        switch request.identifierType {
        case "dns":
            guard NetworkSyntax.isDomainName(request.identifierValue) else {
                throw PluginError.invalidInput("\"\(escapedForDetail(request.identifierValue))\" is not a domain name",
                                               problemType: ProblemType.rejectedIdentifier)
            }
            host = request.identifierValue
        case "ip":
            // RFC 8738 §3: the URL's host is the address itself.
            guard let address = IPAddress(request.identifierValue) else {
                throw PluginError.invalidInput("\"\(escapedForDetail(request.identifierValue))\" is not an IP address",
                                               problemType: ProblemType.rejectedIdentifier)
            }
            host = address.urlHost
        default:
            throw PluginError.unsupported("http-01 does not validate \(request.identifierType) identifiers")
        }
        let port = config.port == 80 ? "" : ":\(config.port)"
        let first = "http://\(host)\(port)/.well-known/acme-challenge/\(token)"

        // timeout_seconds and the call's deadline both bound the whole validation.
        let bound = ValidationBound(timeoutSeconds: config.timeoutSeconds, callDeadline: request.deadline)
        do {
            try follow(first, keyAuthorization: keyAuthorization, bound: bound)
            log.info("http-01 \(request.identifierValue): valid (\(first))")
        } catch {
            log.info("http-01 \(request.identifierValue): \(error.retryable ? "retryable" : "final") \(error.problemType): \(error.detail)")
            throw error
        }
    }

    /// Fetches `start`, following redirects, and checks the final body.
    private func follow(_ start: String, keyAuthorization: String, bound: ValidationBound) throws(PluginError) {
        var current = start
        var redirects = 0
        while true {
            guard let url = ChallengeURL(current), !url.host.isEmpty else {
                throw refused("cannot parse the URL \"\(escapedForDetail(current))\"")
            }
            let addresses = try addresses(of: url, bound: bound)
            let (status, body, location) = try fetch(url, addresses: addresses, bound: bound)
            switch status {
            case 200:
                try check(body, from: url, keyAuthorization: keyAuthorization)
                return
            case 301, 302, 303, 307, 308:
                guard redirects < Self.maxRedirects else {
                    throw refused("more than \(Self.maxRedirects) redirects from \(start) (the last from \(url))")
                }
                guard let location, let next = ChallengeURL(location) else {
                    throw refused("\(url) answered HTTP \(status) without a usable Location header")
                }
                try checkRedirect(from: url, to: next)
                log.debug("http-01: \(url) redirects (HTTP \(status)) to \(next)")
                redirects += 1
                current = next.text
            default:
                throw PluginError.rejected(
                    "\(url) answered HTTP \(status); http-01 needs HTTP 200 with the key authorization as the body",
                    problemType: ProblemType.unauthorized)
            }
        }
    }

    /// Only http and https, on port 80, 443 or the configured port (Let's Encrypt allows 80 and 443).
    private func checkRedirect(from url: ChallengeURL, to next: ChallengeURL) throws(PluginError) {
        guard next.scheme == "http" || next.scheme == "https" else {
            throw refused("\(url) redirects to \"\(escapedForDetail(next.text))\": only http and https redirects are followed")
        }
        let allowed = Set([80, 443, config.port])
        guard allowed.contains(next.port) else {
            let list = allowed.sorted().map(String.init).joined(separator: ", ")
            throw refused("\(url) redirects to \"\(escapedForDetail(next.text))\": port \(next.port) is not allowed (only \(list))")
        }
        guard next.address != nil || NetworkSyntax.isDomainName(next.host) else {
            throw refused("\(url) redirects to \"\(escapedForDetail(next.text))\": the host is neither a domain name nor an IP address")
        }
    }

    /// The addresses to try for `url`, each checked against `blocked_networks`: one
    /// blocked address refuses the whole hop.
    private func addresses(of url: ChallengeURL, bound: ValidationBound) throws(PluginError) -> [IPAddress] {
        let addresses: [IPAddress]
        if let literal = url.address {
            addresses = [literal]
        } else {
            do {
                addresses = try config.resolver.addresses(of: url.host, deadline: bound.deadline)
            } catch {
                if error.kind == .deadline {
                    throw bound.timedOut("fetching \(url): \(error.detail)", problemType: ProblemType.dns)
                }
                var problem = error.pluginError
                problem.detail = "fetching \(url): \(error.detail)"
                throw problem
            }
        }
        for address in addresses {
            if let network = config.blockedNetworks.blocking(address) {
                let of = url.address == nil ? " (an address of \(url.host))" : ""
                throw refused("refusing to connect to \(address)\(of) for \(url): it is in the blocked network \(network)")
            }
        }
        return addresses
    }

    /// GETs `url` from each address in turn until one connects.
    private func fetch(_ url: ChallengeURL, addresses: [IPAddress], bound: ValidationBound) throws(PluginError)
        -> (status: Int, body: [UInt8], location: String?) {
        var failures: [String] = []
        for (index, address) in addresses.enumerated() {
            let left = bound.deadline.remainingMilliseconds
            guard left > 0 else { break }
            // A silent address must leave time for the next ones.
            let connectBudget = max(min(left, 1000), left / Int64(addresses.count - index))
            let outcome = HTTPFetch(url: url, address: address, maxBytes: config.maxResponseBytes,
                                    timeoutMs: left, connectTimeoutMs: connectBudget).run()
            switch outcome {
            case let .response(status, body, redirect):
                return (status, body, redirect)
            case .connectFailed(let message):
                log.debug("http-01: \(url) via \(address): \(message)")
                failures.append("\(address): \(message)")
            case .timedOut(let message):
                throw bound.timedOut("fetching \(url) from \(address): \(message)")
            case .tooLarge:
                throw PluginError.rejected(
                    "the response from \(url) is larger than max_response_bytes (\(config.maxResponseBytes) bytes)",
                    problemType: ProblemType.incorrectResponse)
            case .failed(let message):
                throw PluginError(code: ACMEEH_E_UNAVAILABLE, retryable: true, problemType: ProblemType.connection,
                                  detail: "fetching \(url) from \(address): \(message)")
            }
        }
        let tried = failures.isEmpty ? "" : ": " + failures.joined(separator: "; ")
        if bound.deadline.hasPassed {
            throw bound.timedOut("could not connect to \(url.host) for \(url)\(tried)")
        }
        throw PluginError(code: ACMEEH_E_UNAVAILABLE, retryable: true, problemType: ProblemType.connection,
                          detail: "could not connect to \(url.host) for \(url)\(tried)")
    }

    /// RFC 8555 §8.3: the body, trailing whitespace ignored, equals the key authorization.
    private func check(_ body: [UInt8], from url: ChallengeURL, keyAuthorization: String) throws(PluginError) {
        var end = body.count
        while end > 0, [0x20, 0x09, 0x0A, 0x0D].contains(body[end - 1]) { end -= 1 }
        let received = body[0..<end]
        let expected = Array(keyAuthorization.utf8)
        guard constantTimeEquals(Array(received), expected) else {
            throw PluginError.rejected(
                "the body at \(url) is not the key authorization: expected \"\(escapedForDetail(expected, limit: 200))\" "
                    + "(\(expected.count) bytes), received \"\(escapedForDetail(received))\" (\(received.count) bytes)",
                problemType: ProblemType.incorrectResponse)
        }
    }

    /// A final `connection` problem: the validator refuses to go where it was sent.
    private func refused(_ detail: String) -> PluginError {
        .rejected(detail, problemType: ProblemType.connection)
    }
}

private func isBase64URL(_ byte: UInt8) -> Bool {
    (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
}

/// Equality whose time depends only on the lengths, not on where the bytes differ.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(a.count == b.count ? 0 : 1)
    let length = max(a.count, b.count)
    for i in 0..<length {
        let x = i < a.count ? a[i] : 0
        let y = i < b.count ? b[i] : 0
        difference |= x ^ y
    }
    return difference == 0
}
