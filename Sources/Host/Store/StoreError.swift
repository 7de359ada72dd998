/// A failure of the storage layer, as a value: what went wrong, and for server-side
/// errors the SQLSTATE, so callers can tell a lost race (`isUniqueViolation`) from an outage.
struct StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    enum Kind: String, Sendable, Equatable {
        /// Could not open a connection (bad host, wrong database, auth failure, timeout).
        case connectionFailed
        /// An open connection broke during a call (server restart, backend terminated).
        case connectionLost
        /// No pooled connection became free within the checkout timeout.
        case poolExhausted
        /// The pool has been shut down.
        case poolClosed
        /// The server rejected a statement; `sqlState` says why.
        case server
        /// A result value could not be read as the asked type, or a column is missing.
        case decoding
        /// A migration failed (the underlying error is in `message`).
        case migration
        /// A guard statement of a pipelined batch did not hold (`guardName` says which);
        /// the server aborted the batch, so none of its statements took effect.
        case guardFailed
        /// RFC 8555 §6.5: a batch recorded a nonce that was already redeemed (the primary
        /// key of `nonces` refused it); the batch took no effect. The ACME layer answers `badNonce`.
        case nonceReplayed
        /// RFC 8555 §7.3.5: a key change met the key of another account (the unique
        /// `jwk_thumbprint`); the batch took no effect.
        case accountKeyTaken
    }

    var kind: Kind
    /// The five-character SQLSTATE of a server error (`23505` = unique_violation).
    var sqlState: String?
    /// Primary message (for `.server`, PostgreSQL's own text).
    var message: String
    var detail: String?
    /// For integrity errors: the violated constraint's name.
    var constraint: String?
    /// For `.guardFailed`: the name the failed guard statement was given.
    var guardName: String?

    init(_ kind: Kind, _ message: String, sqlState: String? = nil, detail: String? = nil, constraint: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.constraint = constraint
    }

    /// SQLSTATE 23505: another writer inserted the same key first.
    var isUniqueViolation: Bool { sqlState == SQLState.uniqueViolation }
    /// SQLSTATE 23503.
    var isForeignKeyViolation: Bool { sqlState == SQLState.foreignKeyViolation }
    /// SQLSTATE 23514.
    var isCheckViolation: Bool { sqlState == SQLState.checkViolation }
    /// Serialization failure or deadlock: the transaction may be retried as a whole.
    var isRetryableConflict: Bool {
        sqlState == SQLState.serializationFailure || sqlState == SQLState.deadlockDetected
    }
    /// The database is unreachable or the pool is saturated: answer 503, not 500.
    var isUnavailable: Bool {
        switch kind {
        case .connectionFailed, .connectionLost, .poolExhausted, .poolClosed: true
        default: sqlState?.hasPrefix("08") == true || sqlState?.hasPrefix("57P") == true
        }
    }

    var description: String {
        var s: String
        switch kind {
        case .server: s = "database error \(sqlState ?? "?????"): \(message)"
        case .connectionFailed: s = "database connection failed: \(message)"
        case .connectionLost: s = "database connection lost: \(message)"
        case .poolExhausted: s = message
        case .poolClosed: s = message
        case .decoding: s = "database result decoding: \(message)"
        case .migration: s = "migration failed: \(message)"
        case .guardFailed: s = "batch guard \"\(guardName ?? "?")\" failed: \(message)"
        case .nonceReplayed: s = "nonce already redeemed: \(message)"
        case .accountKeyTaken: s = "account key already in use: \(message)"
        }
        if let detail, !detail.isEmpty { s += " (\(detail))" }
        return s
    }
}

/// SQLSTATE codes the rest of the server reacts to (PostgreSQL Appendix A).
enum SQLState {
    static let uniqueViolation = "23505"
    static let foreignKeyViolation = "23503"
    static let checkViolation = "23514"
    static let notNullViolation = "23502"
    static let serializationFailure = "40001"
    static let deadlockDetected = "40P01"
    static let undefinedTable = "42P01"
    static let adminShutdown = "57P01"
    static let invalidCatalogName = "3D000"
    /// Raised by `acmeeh_guard` (migration 0004) when a batch guard does not hold.
    static let guardFailed = "AE001"
}
