/// One step of the schema's history. Applied in `version` order, each in its own
/// transaction, recorded in `schema_migrations`. A released migration is never edited:
/// a change is a new migration with the next version.
struct Migration: Sendable, Equatable {
    let version: Int
    let name: String
    let sql: String
}

/// Every migration this build knows, in order. Append new ones at the end.
enum Migrations {
    static let all: [Migration] = [
        Migration0001.initial,
        Migration0002.deferredSigning,
        Migration0003.pendingBackend,
        Migration0004.batchGuard,
        Migration0005.rateLimitCounters,
        Migration0006.crlCache,
        Migration0007.revocationOutbox,
        Migration0008.notifications,
        Migration0009.admin,
    ]
}
