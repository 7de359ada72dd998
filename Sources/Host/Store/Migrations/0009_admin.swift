/// The admin API's tables, in their own schema `admin`:
/// - `users`: operators of the admin API (bcrypt hash only, role `admin` or `auditor`);
///   `password_changed_at` invalidates every token issued before it.
/// - `token_revocations`: tokens ended by logout (their SHA-256), shared by every instance
///   until the token would have expired anyway.
/// - `login_failures`: failed logins per client IP and username, the lockout's evidence,
///   shared by every instance.
/// - `audit_log`: every admin mutation and login, success or failure.
/// - `allowed_identifiers` and its links to accounts and EAB credentials: the per-account
///   allowlist (`security.identifier_policy.enforce_account_allowlist`).
/// - `csr_profiles` and its links (one profile per account, one per EAB credential): the
///   CSR rules applied at finalize.
/// EAB links are copied to the account that registers with the credential (`from_eab`), so
/// that binding again replaces exactly those and keeps the links an operator made.
enum Migration0009 {
    static let admin = Migration(version: 9, name: "admin", sql: sql)

    private static let sql = #"""
        CREATE SCHEMA admin;

        CREATE TABLE admin.users (
            id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            username             text NOT NULL UNIQUE CHECK (username <> ''),
            email                text NOT NULL,
            password_hash        text NOT NULL,
            role                 text NOT NULL CHECK (role IN ('admin', 'auditor')),
            enabled              boolean NOT NULL DEFAULT true,
            password_changed_at  timestamptz NOT NULL DEFAULT now(),
            last_login_at        timestamptz,
            created_at           timestamptz NOT NULL DEFAULT now(),
            updated_at           timestamptz NOT NULL DEFAULT now()
        );
        CREATE TRIGGER admin_users_touch BEFORE UPDATE ON admin.users
            FOR EACH ROW EXECUTE FUNCTION acmeeh_touch_updated_at();

        CREATE TABLE admin.token_revocations (
            token_digest  bytea PRIMARY KEY,
            expires_at    timestamptz NOT NULL
        );
        CREATE INDEX admin_token_revocations_expires_idx ON admin.token_revocations (expires_at);

        CREATE TABLE admin.login_failures (
            id            bigserial PRIMARY KEY,
            ip_address    text NOT NULL,
            username      text NOT NULL,
            failed_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX admin_login_failures_key_idx ON admin.login_failures (ip_address, username, failed_at);

        CREATE TABLE admin.audit_log (
            id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            seq             bigserial NOT NULL UNIQUE,
            user_id         uuid REFERENCES admin.users(id) ON DELETE SET NULL,
            action          text NOT NULL,
            target_user_id  uuid REFERENCES admin.users(id) ON DELETE SET NULL,
            details         jsonb NOT NULL DEFAULT '{}'::jsonb,
            ip_address      text,
            created_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX admin_audit_log_created_idx ON admin.audit_log (created_at);

        ALTER TABLE eab_credentials ADD COLUMN created_by uuid REFERENCES admin.users(id) ON DELETE SET NULL;

        CREATE TABLE admin.allowed_identifiers (
            id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            identifier_type   text NOT NULL CHECK (identifier_type IN ('dns', 'ip')),
            identifier_value  text NOT NULL CHECK (identifier_value <> ''),
            created_by        uuid REFERENCES admin.users(id) ON DELETE SET NULL,
            created_at        timestamptz NOT NULL DEFAULT now(),
            UNIQUE (identifier_type, identifier_value)
        );
        CREATE TABLE admin.account_allowed_identifiers (
            account_id     uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            identifier_id  uuid NOT NULL REFERENCES admin.allowed_identifiers(id) ON DELETE CASCADE,
            -- copied from the account's EAB credential (binding again replaces exactly these)
            from_eab       boolean NOT NULL DEFAULT false,
            PRIMARY KEY (account_id, identifier_id)
        );
        CREATE INDEX admin_account_allowed_identifiers_identifier_idx ON admin.account_allowed_identifiers (identifier_id);
        CREATE TABLE admin.eab_allowed_identifiers (
            eab_id         uuid NOT NULL REFERENCES eab_credentials(id) ON DELETE CASCADE,
            identifier_id  uuid NOT NULL REFERENCES admin.allowed_identifiers(id) ON DELETE CASCADE,
            PRIMARY KEY (eab_id, identifier_id)
        );

        CREATE TABLE admin.csr_profiles (
            id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name          text NOT NULL UNIQUE CHECK (name <> ''),
            description   text NOT NULL DEFAULT '',
            profile_data  jsonb NOT NULL,
            created_by    uuid REFERENCES admin.users(id) ON DELETE SET NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            updated_at    timestamptz NOT NULL DEFAULT now()
        );
        CREATE TRIGGER admin_csr_profiles_touch BEFORE UPDATE ON admin.csr_profiles
            FOR EACH ROW EXECUTE FUNCTION acmeeh_touch_updated_at();
        CREATE TABLE admin.account_csr_profiles (
            account_id  uuid PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            profile_id  uuid NOT NULL REFERENCES admin.csr_profiles(id) ON DELETE CASCADE,
            from_eab    boolean NOT NULL DEFAULT false
        );
        CREATE TABLE admin.eab_csr_profiles (
            eab_id      uuid PRIMARY KEY REFERENCES eab_credentials(id) ON DELETE CASCADE,
            profile_id  uuid NOT NULL REFERENCES admin.csr_profiles(id) ON DELETE CASCADE
        );
        """#
}
