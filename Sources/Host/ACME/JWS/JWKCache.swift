import NIOConcurrencyHelpers

/// Parsed account keys by the JWK text stored with the account. Parsing a JWK into an
/// OpenSSL key (DER decoding through OpenSSL 3's decoders plus the public-key check) costs
/// more than verifying the signature itself, and every kid-signed request needs its
/// account's key: the cache makes that a dictionary lookup. Keys are immutable, so an
/// entry can never be stale; a full cache drops an arbitrary entry. The bound keeps it to
/// a few megabytes (an entry holds an OpenSSL key): the accounts active at one time.
final class JWKCache: Sendable {
    private let entries = NIOLockedValueBox<[String: JWK]>([:])
    let capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    /// The key of `json`, parsed once.
    func jwk(json: String) throws(Problem) -> JWK {
        if let hit = entries.withLockedValue({ $0[json] }) { return hit }
        let parsed = try JWK(json: Array(json.utf8))
        entries.withLockedValue { entries in
            if entries.count >= capacity, let any = entries.indices.first { entries.remove(at: any) }
            entries[json] = parsed
        }
        return parsed
    }
}
