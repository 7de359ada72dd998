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

/// The position of a row in an admin list: its `created_at` (microseconds since the Unix
/// epoch, exact: Store reads it as `(extract(epoch FROM created_at) * 1000000)::bigint`
/// and compares with `'epoch'::timestamptz + $n * interval '1 microsecond'`) and `id`.
struct PageCursor: Sendable, Equatable {
    let createdAtMicros: Int64
    let id: UUID
}
