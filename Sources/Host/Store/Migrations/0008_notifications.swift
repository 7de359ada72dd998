/// `notifications`: every notification acmeeh decided to send (type, recipients, the
/// rendered subject and bodies) and where its delivery stands: `pending` until the sender
/// delivers it (`sent`) or gives up after its retries (`failed`); `unsent` when it was
/// recorded while `smtp.enabled` was false (kept for the record, never sent later).
/// `next_attempt_at` doubles as the lease of an attempt under way, as in the revocation
/// outbox. `certificate_expiration_notices`: one row per certificate and warning threshold
/// already notified, so a restart or a second instance never warns twice.
enum Migration0008 {
    static let notifications = Migration(version: 8, name: "notifications", sql: sql)

    private static let sql = #"""
        CREATE TABLE notifications (
            id               uuid PRIMARY KEY,
            type             text NOT NULL,
            account_id       uuid REFERENCES accounts(id) ON DELETE SET NULL,
            recipients       text[] NOT NULL CHECK (cardinality(recipients) > 0),
            subject          text NOT NULL,
            body_text        text NOT NULL,
            body_html        text NOT NULL,
            status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'unsent')),
            attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            next_attempt_at  timestamptz NOT NULL DEFAULT now(),
            last_error       text,
            created_at       timestamptz NOT NULL DEFAULT now(),
            sent_at          timestamptz
        );
        CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX notifications_account_idx ON notifications (account_id);

        CREATE TABLE certificate_expiration_notices (
            certificate_id  uuid NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,
            warning_days    integer NOT NULL CHECK (warning_days > 0),
            notified_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (certificate_id, warning_days)
        );
        """#
}
