/// `revocation_outbox`: the revocations the CA backend that issued the certificate has not
/// confirmed yet (or refused for good). A row is written in the transaction that records
/// the revocation, deleted when the backend confirms, and retried with backoff by every
/// instance until then (`FOR UPDATE SKIP LOCKED`, `next_at` as the lease), so a revocation
/// survives a CA outage, a restart and the loss of the instance that took it.
enum Migration0007 {
    static let revocationOutbox = Migration(version: 7, name: "revocation_outbox", sql: sql)

    private static let sql = #"""
        CREATE TABLE revocation_outbox (
            certificate_id  uuid PRIMARY KEY REFERENCES certificates(id) ON DELETE CASCADE,
            -- pending: to be (re)tried at next_at; failed: the backend refused it for good
            state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
            -- CA calls made so far
            attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            -- the next attempt (pending), or the end of the lease of an attempt under way
            next_at         timestamptz NOT NULL DEFAULT now(),
            last_error      text,
            created_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX revocation_outbox_due_idx ON revocation_outbox (next_at) WHERE state = 'pending';
        """#
}
