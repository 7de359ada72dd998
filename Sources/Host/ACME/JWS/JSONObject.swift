import Foundation

/// Decoding of the JSON objects a JWS carries (the JWS itself, its protected header, a
/// JWK, a payload), with every failure a `malformed` problem naming what was parsed.
enum JSONObject {
    static func parse(_ bytes: [UInt8], what: String) throws(Problem) -> [String: Any] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw Problem(.malformed, "\(what) is not valid JSON")
        }
        guard let object = value as? [String: Any] else {
            throw Problem(.malformed, "\(what) must be a JSON object")
        }
        return object
    }
}
