import CLibPQ

/// Pipelined batches: a unit of work sent as one libpq pipeline, one round trip.
extension Connection {
    /// Runs `statements` in libpq pipeline mode as ONE implicit transaction and ONE round
    /// trip: every statement (with a Parse first for one not yet prepared on this session)
    /// goes out, then a single sync, then the results are read. PostgreSQL commits at the
    /// sync; the first error aborts the statements after it and rolls back those before it.
    ///
    /// Returns one result per statement, in order. Throws, with nothing committed:
    /// `.guardFailed` (a guard statement did not hold; `guardName` says which),
    /// the statement's `uniqueViolation` kind for a unique violation (`.nonceReplayed`), or
    /// `.server` with SQLSTATE for any other failing statement. `.connectionLost` means
    /// the session broke mid-batch: whether the sync's commit happened is unknown, so the
    /// caller re-reads; the session is closed, and the pool replaces it.
    ///
    /// Inside an explicit transaction (`transaction { }`), the statements join that
    /// transaction instead, and an error leaves it aborted (to be rolled back).
    /// For a handful of statements with small results: the pipeline is written before any
    /// result is read, so results must fit the socket buffers.
    ///
    /// `asynchronousCommit` commits without waiting for the WAL flush (`synchronous_commit`
    /// off for this transaction only): for reads and nonce-only requests, never a state change.
    func runBatch(_ statements: [BatchStatement], asynchronousCommit: Bool = false) throws -> [BatchStatementResult] {
        guard !statements.isEmpty else { return [] }
        let sent = asynchronousCommit ? [.asynchronousCommit] + statements : statements
        return Array(try runBatches([sent])[0].get().dropFirst(sent.count - statements.count))
    }

    /// Runs several independent batches in ONE pipeline and one round trip: each batch is
    /// followed by its own sync, so each is its own implicit transaction, and a failing
    /// batch aborts only itself. Returns one result per batch, in order (an empty batch
    /// succeeds with no results). A session lost part-way fails every batch whose sync was
    /// not read with `.connectionLost` (whether those committed is unknown).
    func runBatches(_ batches: [[BatchStatement]]) -> [Result<[BatchStatementResult], Error>] {
        var outcomes = [Result<[BatchStatementResult], Error>](repeating: .success([]), count: batches.count)
        guard batches.contains(where: { !$0.isEmpty }) else { return outcomes }
        let pg: OpaquePointer
        do { pg = try handle() } catch { return outcomes.map { _ in .failure(error) } }
        guard PQenterPipelineMode(pg) == 1 else {
            let failure = lostOrServer(pg, "cannot enter pipeline mode")
            return outcomes.map { _ in .failure(failure) }
        }
        var plans = [[PipelineReply]](repeating: [], count: batches.count)
        do {
            for (i, statements) in batches.enumerated() where !statements.isEmpty {
                try sendPipeline(statements, pg, into: &plans[i])
                guard PQpipelineSync(pg) == 1 else { throw lostOrServer(pg, "cannot send the pipeline sync") }
            }
        } catch {
            // A half-queued pipeline cannot be trusted: drop the session. Whether the
            // batches already sent committed is unknown, as for any lost session.
            close()
            let lost = StoreError(.connectionLost, "\(error)")
            return outcomes.map { _ in .failure(lost) }
        }
        countRoundTrip()
        for i in batches.indices where !batches[i].isEmpty {
            do {
                outcomes[i] = .success(try readPipeline(batches[i], plans[i], pg))
            } catch let error as StoreError where error.kind == .connectionLost {
                close()
                for j in i..<batches.count { outcomes[j] = .failure(error) }
                return outcomes
            } catch {
                outcomes[i] = .failure(error)
            }
        }
        leavePipelineMode(pg)
        return outcomes
    }

    /// What the pipeline will answer, in order: the Parse of statement `index`'s SQL, or
    /// statement `index`'s execution.
    private enum PipelineReply {
        case parse(key: String, name: String, index: Int)
        case statement(index: Int)
    }

    /// Queues every statement: a Parse for each one not prepared yet (once per batch even
    /// when repeated), then its execution.
    private func sendPipeline(_ statements: [BatchStatement], _ pg: OpaquePointer, into replies: inout [PipelineReply]) throws {
        var parsing: [String: String] = [:]
        for (i, statement) in statements.enumerated() {
            let types = statement.params.map { $0?.typeOID ?? 0 }
            let key = Self.statementKey(statement.sql, types)
            var name = preparedName(key) ?? parsing[key]
            if name == nil, let fresh = newStatementName() {
                let sent = types.withUnsafeBufferPointer {
                    PQsendPrepare(pg, fresh, statement.sql, Int32(types.count), $0.baseAddress)
                }
                guard sent == 1 else { throw lostOrServer(pg, "cannot queue a Parse") }
                replies.append(.parse(key: key, name: fresh, index: i))
                parsing[key] = fresh
                name = fresh
            }
            let count = Int32(statement.params.count)
            let sent = try withCParams(statement.params) { values in
                if let name { return PQsendQueryPrepared(pg, name, count, values, nil, nil, 0) }
                return types.withUnsafeBufferPointer {
                    PQsendQueryParams(pg, statement.sql, count, $0.baseAddress, values, nil, nil, 0)
                }
            }
            guard sent == 1 else { throw lostOrServer(pg, "cannot queue statement \(i + 1) of the batch") }
            replies.append(.statement(index: i))
        }
    }

    /// Reads every reply and the sync. The first failure is thrown once the pipeline is
    /// drained (the session is then ready for the next call); a lost session at once.
    private func readPipeline(
        _ statements: [BatchStatement], _ replies: [PipelineReply], _ pg: OpaquePointer
    ) throws -> [BatchStatementResult] {
        var results: [BatchStatementResult] = []
        results.reserveCapacity(statements.count)
        var failure: StoreError?
        for reply in replies {
            guard let res = PQgetResult(pg) else { throw lostOrServer(pg, "the batch ended early") }
            defer {
                PQclear(res)
                // Each reply ends with a NULL result.
                while PQstatus(pg) == CONNECTION_OK, let extra = PQgetResult(pg) { PQclear(extra) }
            }
            switch PQresultStatus(res) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                switch reply {
                case .parse(let key, let name, _): registerPrepared(key, name)
                case .statement:
                    results.append(BatchStatementResult(
                        rows: Self.rows(res), affectedRows: Int(String(cString: PQcmdTuples(res))) ?? 0))
                }
            case PGRES_PIPELINE_ABORTED:
                break
            default:
                let failed = error(from: res, pg)
                if Self.isSessionGone(failed) { throw Self.lost(failed) }
                if failure == nil {
                    switch reply {
                    case .parse(_, _, let i), .statement(let i):
                        failure = Self.batchError(failed, statements[i], index: i, of: statements.count)
                    }
                }
            }
        }
        guard let sync = PQgetResult(pg) else { throw lostOrServer(pg, "the batch ended without its sync") }
        let status = PQresultStatus(sync)
        if status != PGRES_PIPELINE_SYNC {
            let failed = status == PGRES_FATAL_ERROR ? error(from: sync, pg) : nil
            PQclear(sync)
            if let failed { throw Self.isSessionGone(failed) ? Self.lost(failed) : failed }
            throw lostOrServer(pg, "expected the pipeline sync, got \(String(cString: PQresStatus(status)))")
        }
        PQclear(sync)
        if let failure { throw failure }
        return results
    }

    /// Back to ordinary mode after a drained pipeline (libpq refuses while results remain;
    /// then they are read and dropped).
    private func leavePipelineMode(_ pg: OpaquePointer) {
        for _ in 0..<64 where PQpipelineStatus(pg) != PQ_PIPELINE_OFF {
            if PQexitPipelineMode(pg) == 1 { return }
            guard PQstatus(pg) == CONNECTION_OK, let res = PQgetResult(pg) else { return }
            PQclear(res)
        }
    }

    /// A libpq call failed without a result: lost when the session is broken, else `.server`.
    private func lostOrServer(_ pg: OpaquePointer, _ what: String) -> StoreError {
        let message = "\(what): \(Self.lastError(pg))"
        return StoreError(PQstatus(pg) == CONNECTION_OK ? .server : .connectionLost, message)
    }

    /// An error that means the backend is gone even if libpq has not read the EOF yet:
    /// a broken session, the FATAL of `pg_terminate_backend` or a shutdown (57P01–57P03),
    /// or a connection exception (class 08).
    private static func isSessionGone(_ error: StoreError) -> Bool {
        if error.kind == .connectionLost { return true }
        guard let state = error.sqlState else { return false }
        return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
    }

    private static func lost(_ error: StoreError) -> StoreError {
        StoreError(.connectionLost, error.message, sqlState: error.sqlState, detail: error.detail)
    }

    /// A statement's failure as the batch reports it: its guard, its unique-violation
    /// kind, or the server error naming its place in the batch.
    private static func batchError(_ error: StoreError, _ statement: BatchStatement, index: Int, of count: Int) -> StoreError {
        var mapped = error
        if error.sqlState == SQLState.guardFailed {
            // A guard statement, or a statement calling acmeeh_guard itself (its DETAIL names it).
            mapped.kind = .guardFailed
            mapped.guardName = statement.guardName ?? error.detail
        } else if error.isUniqueViolation, let kind = statement.uniqueViolation {
            mapped.kind = kind
        }
        mapped.message = "statement \(index + 1) of \(count) in the batch: \(error.message)"
        return mapped
    }
}
