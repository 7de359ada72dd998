import COpenSSL
import PluginAPI
import PluginKit
import PluginNetwork

/// RFC 8555 §8.4: a TXT record at `_acme-challenge.<domain>` holds
/// base64url(SHA-256(key authorization)).
struct DNS01Validation {
    let config: DNS01Config
    let resolver: Resolver

    func validate(_ request: ChallengeRequest) throws(PluginError) {
        guard let keyAuthorization = request.keyAuthorization, !keyAuthorization.isEmpty else {
            throw PluginError.invalidInput("dns-01 needs a key authorization")
        }
        let expected = Array(base64URL(sha256(Array(keyAuthorization.utf8))).utf8)
        let name = "_acme-challenge.\(request.identifierValue)"
        let bound = ValidationBound(timeoutSeconds: config.timeoutSeconds, callDeadline: request.deadline)
        let answer: TXTAnswer
        do {
            answer = try resolver.txtRecords(of: name, deadline: bound.deadline, authoritative: config.requireAuthoritative,
                                             requestAuthenticated: config.requireDNSSEC)
        } catch {
            throw bound.problem(error, context: "dns-01 looking up TXT \(name)")
        }
        // require_dnssec: an answer without the AD bit is unsigned or unvalidated. That is how
        // the zone (or the resolver) is set up, not a propagation delay: final.
        if config.requireDNSSEC && !answer.authenticated {
            throw PluginError.rejected(
                "dns-01: the TXT answer for \(name) from \(answer.source) is not DNSSEC-authenticated (no AD bit) and require_dnssec is on",
                problemType: ProblemType.dns)
        }
        // Any one of the records may carry the value (several orders may be in flight).
        if answer.records.contains(where: { constantTimeEquals($0, expected) }) { return }
        let received = answer.records.prefix(5).map { "\"\(escapedForDetail($0, limit: 100))\"" }.joined(separator: ", ")
        let more = answer.records.count > 5 ? " and \(answer.records.count - 5) more" : ""
        let at = answer.canonicalName == Resolver.normalizedName(name) ? "" : " (via CNAME to \(answer.canonicalName))"
        throw PluginError.rejected(
            "dns-01: no TXT record at \(name)\(at) has the expected value \"\(String(decoding: expected, as: UTF8.self))\"; "
                + "received \(answer.records.count == 1 ? "1 record" : "\(answer.records.count) records"): \(received)\(more)",
            problemType: ProblemType.incorrectResponse)
    }
}

func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    _ = bytes.withUnsafeBytes { input in
        EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha256(), nil)
    }
    return digest
}

/// RFC 4648 §5, unpadded.
func base64URL(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var out: [UInt8] = []
    var i = 0
    while i + 3 <= bytes.count {
        let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
        out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
        i += 3
    }
    let rest = bytes.count - i
    if rest == 1 {
        let n = UInt32(bytes[i]) << 16
        out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
    } else if rest == 2 {
        let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
        out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
    }
    return String(decoding: out, as: UTF8.self)
}

/// Equality whose time depends only on the lengths.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(a.count == b.count ? 0 : 1)
    for i in 0..<max(a.count, b.count) {
        difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return difference == 0
}

