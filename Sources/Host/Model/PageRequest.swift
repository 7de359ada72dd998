import Foundation

/// One page of an admin list: at most `limit` rows, either after the row `after` names
/// (keyset: stable while rows are added) or, without a cursor, after skipping `offset`.
/// Every list is ordered by (`created_at`, `id`), each in its own direction; the
/// cursor names the last row of the previous page in that order.
struct PageRequest: Sendable, Equatable {
    var limit: Int
    var offset: Int = 0
    var after: PageCursor? = nil
}

/// The position of a row in an admin list: its `created_at` and `id`.
struct PageCursor: Sendable, Equatable {
    let createdAt: Date
    let id: UUID
}
