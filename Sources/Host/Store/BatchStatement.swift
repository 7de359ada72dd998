/// One statement of a pipelined batch (`Connection.runBatch`): SQL with bound parameters,
/// and what it must produce for the batch to stand.
///
/// Only Store builds these (SQL lives in Store/): a repository offers a factory such as
/// `BatchStatement.recordNonce(_:expiresAt:)`, and a Core operation lists the factories'
/// statements as one unit of work. A batch runs as one implicit transaction, so a
/// statement that fails, and a guard that does not hold, undo the whole batch.
struct BatchStatement: Sendable {
    /// What the statement must produce, checked by the server so that a miss aborts the batch.
    enum Expectation: Sendable, Equatable {
        /// Any number of rows (or none).
        case anyRows
        /// Exactly one row, else the batch aborts with `StoreError(.guardFailed)` naming the
        /// guard. The SQL must be a SELECT, VALUES, or INSERT/UPDATE/DELETE … RETURNING with
        /// no data-modifying WITH of its own (it is wrapped in one).
        case exactlyOneRow(guardName: String)
        /// A SELECT of one boolean that must be true (no row or NULL count as false), else
        /// the batch aborts with `StoreError(.guardFailed)` naming the guard.
        case isTrue(guardName: String)
    }

    /// The SQL sent (a guard's wrapping included).
    let sql: String
    let params: [PostgresValue?]
    let expectation: Expectation
    /// The error kind a unique violation of this statement maps to (`.nonceReplayed` for a
    /// nonce); nil leaves it a `.server` error with SQLSTATE 23505.
    let uniqueViolation: StoreError.Kind?

    /// A statement whose rows (any number) come back as they are.
    init(_ sql: String, _ params: [PostgresValue?] = [], uniqueViolation: StoreError.Kind? = nil) {
        self.sql = sql
        self.params = params
        self.expectation = .anyRows
        self.uniqueViolation = uniqueViolation
    }

    /// A statement that must return exactly one row: it is wrapped so that the server
    /// counts the rows and calls `acmeeh_guard` (migration 0004), which raises otherwise.
    /// Its one row comes back with the statement's own columns.
    static func exactlyOneRow(
        _ guardName: String, _ sql: String, _ params: [PostgresValue?] = [], uniqueViolation: StoreError.Kind? = nil
    ) -> BatchStatement {
        let name = "$\(params.count + 1)::text"
        return BatchStatement(
            wrapped: """
                WITH acmeeh_guarded AS (\(sql)),
                acmeeh_check AS (SELECT acmeeh_guard((SELECT count(*) FROM acmeeh_guarded) = 1, \(name)) AS ok)
                SELECT acmeeh_guarded.* FROM acmeeh_check LEFT JOIN acmeeh_guarded ON acmeeh_check.ok
                """,
            params + [.string(guardName)], .exactlyOneRow(guardName: guardName), uniqueViolation)
    }

    /// A condition that must hold: `sql` selects one boolean; false, NULL or no row
    /// makes `acmeeh_guard` raise and the batch abort. Its result is one row, `ok` = true.
    static func isTrue(_ guardName: String, _ sql: String, _ params: [PostgresValue?] = []) -> BatchStatement {
        BatchStatement(
            wrapped: "SELECT acmeeh_guard((\(sql)), $\(params.count + 1)::text) AS ok",
            params + [.string(guardName)], .isTrue(guardName: guardName), nil)
    }

    private init(wrapped sql: String, _ params: [PostgresValue?], _ expectation: Expectation, _ uniqueViolation: StoreError.Kind?) {
        self.sql = sql
        self.params = params
        self.expectation = expectation
        self.uniqueViolation = uniqueViolation
    }

    /// `synchronous_commit` off until the batch's transaction ends (as `SET LOCAL`, without
    /// its warning outside an explicit block): the commit does not wait for the WAL flush.
    static let asynchronousCommit = BatchStatement("SELECT set_config('synchronous_commit', 'off', true)")

    /// The guard's name, for a guard statement.
    var guardName: String? {
        switch expectation {
        case .anyRows: nil
        case .exactlyOneRow(let name), .isTrue(let name): name
        }
    }
}

/// What one statement of a batch produced.
struct BatchStatementResult: Sendable {
    /// The rows it returned (none for a statement without RETURNING).
    let rows: [Row]
    /// The row count of its command tag (rows inserted, updated, deleted or selected).
    let affectedRows: Int
}
