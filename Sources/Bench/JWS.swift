import Foundation

/// Flattened JWS JSON serialization (RFC 7515 §7.2.2) as ACME requests use it
/// (RFC 8555 §6.2): `alg`, `nonce`, `url`, and `jwk` (new account) or `kid`.
enum JWS {
    /// `payload` nil is POST-as-GET (an empty payload, RFC 8555 §6.3).
    static func flattened(payload: String?, key: KeyPair, kid: String?, nonce: String, url: String) throws -> [UInt8] {
        let identity = kid.map { #""kid":\#(JSONText.quote($0))"# } ?? #""jwk":\#(key.jwk)"#
        let header = #"{"alg":"\#(key.algorithm)",\#(identity),"nonce":\#(JSONText.quote(nonce)),"url":\#(JSONText.quote(url))}"#
        let protected = Base64URL.encode(header)
        let encodedPayload = payload.map { Base64URL.encode($0) } ?? ""
        let signature = try key.sign(Array("\(protected).\(encodedPayload)".utf8))
        let body = #"{"protected":"\#(protected)","payload":"\#(encodedPayload)","signature":"\#(Base64URL.encode(signature))"}"#
        return Array(body.utf8)
    }
}

/// JSON text built by hand for the few small objects the tool sends.
enum JSONText {
    /// A JSON string literal (RFC 8259 §7).
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
