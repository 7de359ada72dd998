import CLibPQ
import Foundation

/// One libpq session. Every call blocks its thread, so a `Connection` is only ever used
/// on a `Database` thread-pool thread (or by a CLI command that owns the thread).
///
/// `@unchecked Sendable`: the pool hands a connection to exactly one body at a time and
/// takes it back afterwards; it is never used by two threads at once.
final class Connection: @unchecked Sendable {
    private var pg: OpaquePointer?
    /// Statements prepared on this session: parameter types and SQL text → statement name.
    private var prepared: [String: String] = [:]
    /// The number in the next prepared statement's name (never reused, so a name whose
    /// Parse a failed pipeline skipped is not taken twice).
    private var nextStatementNumber = 0
    /// Statements beyond this many run unprepared (the SQL in this program is a fixed set;
    /// the bound only guards the session against unforeseen dynamic text).
    static let maxPreparedStatements = 256
    private var savepointDepth = 0
    /// Where this connection points, for messages: `dbname@host:port as user`.
    let target: String
    /// Round trips to the server on this session: each PQexec, PQprepare, PQexecPrepared and
    /// PQexecParams, and each pipelined batch (one sync), is one.
    private(set) var roundTrips = 0
    /// The pool-wide count this session adds its round trips to (nil for a lone session).
    private let roundTripCounter: RoundTripCounter?

    /// Opens a session (blocking, bounded by `connect_timeout`) and pins the session
    /// settings the decoders rely on (UTC, ISO dates, hex bytea). Round trips are added to
    /// `roundTripCounter` too when given (the pool's total).
    init(config: DatabaseConfig, roundTripCounter: RoundTripCounter? = nil) throws {
        self.roundTripCounter = roundTripCounter
        self.target = "database \"\(config.database)\" at \(config.host):\(config.port) as user \"\(config.user)\""
        let conn = PQconnectdb(Conninfo.build(config))
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let message = conn.map { Self.lastError($0) } ?? "out of memory"
            if let conn { PQfinish(conn) }
            throw StoreError(.connectionFailed, "cannot connect to \(target): \(message)")
        }
        self.pg = conn
        do {
            try executeScript(
                "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET bytea_output = 'hex'; SET extra_float_digits = 3"
            )
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the session (sends Terminate). Idempotent.
    func close() {
        if let pg {
            PQfinish(pg)
            self.pg = nil
        }
    }

    /// True once the session is closed or libpq has seen it break.
    var isBroken: Bool {
        guard let pg else { return true }
        return PQstatus(pg) != CONNECTION_OK
    }

    /// True when no transaction is open (the state a pooled connection must be returned in).
    var isIdle: Bool {
        guard let pg else { return false }
        return PQtransactionStatus(pg) == PQTRANS_IDLE
    }

    var inTransaction: Bool {
        guard let pg else { return false }
        let s = PQtransactionStatus(pg)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR
    }

    /// The backend's process id (for `pg_terminate_backend`, diagnostics).
    var backendPID: Int32 { pg.map { PQbackendPID($0) } ?? 0 }

    /// A cheap check before reuse: an idle session should have nothing to read. If it
    /// has (typically the FATAL message and EOF of a terminated backend), read it and,
    /// unless libpq then sees the session as broken, confirm with an empty query.
    func checkAlive() -> Bool {
        guard let pg, PQstatus(pg) == CONNECTION_OK else { return false }
        var fds = pollfd(fd: PQsocket(pg), events: Int16(POLLIN), revents: 0)
        let ready = poll(&fds, 1, 0)
        if ready == 0 { return true }
        for _ in 0..<2 where PQconsumeInput(pg) != 0 {}
        guard PQstatus(pg) == CONNECTION_OK else { return false }
        return (try? executeScript("")) != nil && PQstatus(pg) == CONNECTION_OK
    }

    // MARK: - Statements

    /// Runs one statement with bound parameters (text format) and returns its rows. Each
    /// distinct statement is prepared once per session, so PostgreSQL parses and plans it
    /// once rather than on every call.
    @discardableResult
    func query(_ sql: String, _ params: [PostgresValue?] = []) throws -> [Row] {
        let result = try exec(sql, params)
        defer { PQclear(result) }
        return Self.rows(result)
    }

    /// Runs one statement and returns the affected row count (0 when the tag has none).
    @discardableResult
    func execute(_ sql: String, _ params: [PostgresValue?] = []) throws -> Int {
        let result = try exec(sql, params)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// The rows of a statement built for batches, run on its own.
    @discardableResult
    func query(_ statement: BatchStatement) throws -> [Row] { try query(statement.sql, statement.params) }

    /// The affected row count of a statement built for batches, run on its own.
    @discardableResult
    func execute(_ statement: BatchStatement) throws -> Int { try execute(statement.sql, statement.params) }

    /// The first row, or nil.
    func queryFirst(_ sql: String, _ params: [PostgresValue?] = []) throws -> Row? {
        try query(sql, params).first
    }

    /// Runs SQL text without parameters through the simple query protocol, so it may hold
    /// several statements (migrations, session settings, BEGIN/COMMIT).
    func executeScript(_ sql: String) throws {
        let pg = try handle()
        countRoundTrip()
        let res = PQexec(pg, sql)
        if let ok = try check(res) { PQclear(ok) }
    }

    /// Counts one round trip (a request the session then waits for the server to answer).
    func countRoundTrip() {
        roundTrips += 1
        roundTripCounter?.add(1)
    }

    // MARK: - Transactions

    enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    /// Inside an open transaction it nests as a SAVEPOINT.
    func transaction<T>(isolation: IsolationLevel? = nil, _ body: (Connection) throws -> T) throws -> T {
        if inTransaction {
            savepointDepth += 1
            let name = "acmeeh_sp\(savepointDepth)"
            defer { savepointDepth -= 1 }
            try executeScript("SAVEPOINT \(name)")
            do {
                let value = try body(self)
                try executeScript("RELEASE SAVEPOINT \(name)")
                return value
            } catch {
                try? executeScript("ROLLBACK TO SAVEPOINT \(name)")
                throw error
            }
        }
        try executeScript(isolation.map { "BEGIN ISOLATION LEVEL \($0.rawValue)" } ?? "BEGIN")
        do {
            let value = try body(self)
            let pg = try handle()
            countRoundTrip()
            let res = try check(PQexec(pg, "COMMIT"))!
            let tag = String(cString: PQcmdStatus(res))
            PQclear(res)
            // COMMIT of a failed transaction answers "ROLLBACK" without an error.
            if tag == "ROLLBACK" {
                throw StoreError(.server, "transaction was rolled back: a statement in it failed", sqlState: "25P02")
            }
            return value
        } catch {
            if !isBroken && !isIdle { try? executeScript("ROLLBACK") }
            throw error
        }
    }

    // MARK: - libpq plumbing

    func handle() throws -> OpaquePointer {
        guard let pg else { throw StoreError(.connectionLost, "connection to \(target) is closed") }
        return pg
    }

    private func exec(_ sql: String, _ params: [PostgresValue?]) throws -> OpaquePointer {
        let pg = try handle()
        let types = params.map { $0?.typeOID ?? 0 }
        let key = Self.statementKey(sql, types)
        var name = preparedName(key)
        if name == nil, let fresh = newStatementName() {
            countRoundTrip()
            let res = types.withUnsafeBufferPointer { PQprepare(pg, fresh, sql, Int32(types.count), $0.baseAddress) }
            if let ok = try check(res) { PQclear(ok) }
            registerPrepared(key, fresh)
            name = fresh
        }
        countRoundTrip()
        let res = try withCParams(params) { values in
            if let name {
                return PQexecPrepared(pg, name, Int32(params.count), values, nil, nil, 0)
            }
            return types.withUnsafeBufferPointer { tp in
                PQexecParams(pg, sql, Int32(params.count), tp.baseAddress, values, nil, nil, 0)
            }
        }
        return try check(res)!
    }

    // MARK: - Prepared statements

    /// What identifies a prepared statement: parameter types and SQL text.
    static func statementKey(_ sql: String, _ types: [UInt32]) -> String {
        types.map { String($0) }.joined(separator: ",") + ";" + sql
    }

    /// The name `key` is prepared under on this session, if it is.
    func preparedName(_ key: String) -> String? { prepared[key] }

    /// A fresh statement name, or nil when the session holds `maxPreparedStatements`
    /// already (the statement then runs unprepared).
    func newStatementName() -> String? {
        guard prepared.count < Self.maxPreparedStatements else { return nil }
        defer { nextStatementNumber += 1 }
        return "acmeeh_\(nextStatementNumber)"
    }

    /// Records that the server accepted the Parse of `key` as `name`.
    func registerPrepared(_ key: String, _ name: String) { prepared[key] = name }

    func withCParams<R>(
        _ params: [PostgresValue?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws -> R
    ) throws -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = params.map { $0.map { strdup($0.textEncoding) } ?? nil }
        defer { copies.forEach { free($0) } }
        let constCopies: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        return try constCopies.withUnsafeBufferPointer { try body($0.baseAddress) }
    }

    /// Returns the result when it is a success, else clears it and throws the error it carries.
    private func check(_ res: OpaquePointer?) throws -> OpaquePointer? {
        guard let pg else { throw StoreError(.connectionLost, "connection to \(target) is closed") }
        guard let res else {
            throw StoreError(PQstatus(pg) == CONNECTION_OK ? .server : .connectionLost, Self.lastError(pg))
        }
        let status = PQresultStatus(res)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
            return res
        }
        defer { PQclear(res) }
        throw error(from: res, pg)
    }

    /// The error a failed result carries (the result stays the caller's to clear):
    /// `.connectionLost` when libpq sees the session broken, else `.server` with SQLSTATE.
    func error(from res: OpaquePointer, _ pg: OpaquePointer) -> StoreError {
        func field(_ code: Character) -> String? {
            guard let p = PQresultErrorField(res, Int32(code.asciiValue!)) else { return nil }
            return String(cString: p)
        }
        let sqlState = field("C")
        let message = field("M") ?? String(cString: PQresultErrorMessage(res)).trimmingCharacters(in: .whitespacesAndNewlines)
        let lost = PQstatus(pg) != CONNECTION_OK
        if lost {
            let libpq = Self.lastError(pg)
            return StoreError(.connectionLost, message.isEmpty ? libpq : message, sqlState: sqlState, detail: libpq == message ? nil : libpq)
        }
        return StoreError(.server, message, sqlState: sqlState, detail: field("D"), constraint: field("n"))
    }

    static func lastError(_ pg: OpaquePointer) -> String {
        String(cString: PQerrorMessage(pg)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func rows(_ res: OpaquePointer) -> [Row] {
        let nFields = PQnfields(res)
        let nTuples = PQntuples(res)
        guard nTuples > 0 else { return [] }
        let columns = Row.ColumnIndex((0..<nFields).map { String(cString: PQfname(res, $0)) })
        var rows: [Row] = []
        rows.reserveCapacity(Int(nTuples))
        for r in 0..<nTuples {
            var values: [String?] = []
            values.reserveCapacity(Int(nFields))
            for c in 0..<nFields {
                values.append(PQgetisnull(res, r, c) != 0 ? nil : String(cString: PQgetvalue(res, r, c)))
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }
}
