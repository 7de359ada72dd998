/// The initial schema: everything the ACME protocol (RFC 8555) needs — accounts, orders,
/// authorizations, challenges, certificates, nonces — plus external account binding
/// credentials, server settings and the certificate serial sequence.
///
/// Conventions: ids are `uuid DEFAULT gen_random_uuid()`; status columns are `text` with a
/// CHECK listing RFC 8555 §7.1.6's states; times are `timestamptz`; hex values (serials,
/// fingerprints) are lowercase; `updated_at` is maintained by a trigger.
enum Migration0001 {
    static let initial = Migration(version: 1, name: "initial", sql: sql)

    private static let sql = #"""
        CREATE FUNCTION acmeeh_touch_updated_at() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END
        $$;

        -- RFC 8555 §7.1.2, §7.3
        CREATE TABLE accounts (
            id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            jwk             jsonb NOT NULL,
            -- RFC 7638 thumbprint (base64url of SHA-256): one account per key
            jwk_thumbprint  text NOT NULL UNIQUE,
            status          text NOT NULL DEFAULT 'valid'
                            CHECK (status IN ('valid', 'deactivated', 'revoked')),
            tos_agreed      boolean NOT NULL DEFAULT false,
            -- RFC 8555 §7.3.4: the EAB key id the account was bound with (FK added below)
            eab_kid         text,
            created_at      timestamptz NOT NULL DEFAULT now(),
            updated_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts
            FOR EACH ROW EXECUTE FUNCTION acmeeh_touch_updated_at();

        -- RFC 8555 §7.1.2 "contact", in the order the client sent them
        CREATE TABLE account_contacts (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            uri         text NOT NULL CHECK (uri <> ''),
            created_at  timestamptz NOT NULL DEFAULT now(),
            UNIQUE (account_id, uri)
        );

        -- RFC 8555 §7.1.3, §7.4
        CREATE TABLE orders (
            id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            account_id        uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            status            text NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
            -- [{"type":"dns","value":"example.com"}, …] as requested (normalised)
            identifiers       jsonb NOT NULL CHECK (jsonb_typeof(identifiers) = 'array'),
            -- hex SHA-256 of the sorted (type, value) pairs: finds a duplicate pending order
            identifiers_hash  text NOT NULL,
            expires           timestamptz NOT NULL,
            not_before        timestamptz,
            not_after         timestamptz,
            -- draft-ietf-acme-profiles
            profile           text,
            -- RFC 9773 §5: certID of the certificate this order replaces
            replaces          text,
            -- RFC 8555 §7.1.3 "error": a problem document
            error             jsonb,
            certificate_id    uuid,   -- FK to certificates added below
            created_at        timestamptz NOT NULL DEFAULT now(),
            updated_at        timestamptz NOT NULL DEFAULT now()
        );
        CREATE TRIGGER orders_touch BEFORE UPDATE ON orders
            FOR EACH ROW EXECUTE FUNCTION acmeeh_touch_updated_at();
        -- the account's orders list (§7.1.2.1), newest first, cursor pagination
        CREATE INDEX orders_account_idx ON orders (account_id, created_at DESC, id);
        -- newOrder dedup: same account + identifiers while pending/ready
        CREATE INDEX orders_dedup_idx ON orders (account_id, identifiers_hash)
            WHERE status IN ('pending', 'ready');
        -- cleanup: expiry of unfinished orders, stale "processing"
        CREATE INDEX orders_open_expires_idx ON orders (expires)
            WHERE status IN ('pending', 'ready', 'processing');
        CREATE INDEX orders_processing_idx ON orders (updated_at) WHERE status = 'processing';
        CREATE INDEX orders_replaces_idx ON orders (replaces) WHERE replaces IS NOT NULL;

        -- RFC 8555 §7.1.4
        CREATE TABLE authorizations (
            id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            account_id        uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            identifier_type   text NOT NULL CHECK (identifier_type IN ('dns', 'ip')),
            -- the base name: without "*." for wildcards (§7.1.4)
            identifier_value  text NOT NULL CHECK (identifier_value <> ''),
            wildcard          boolean NOT NULL DEFAULT false,
            status            text NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
            expires           timestamptz NOT NULL,
            created_at        timestamptz NOT NULL DEFAULT now(),
            updated_at        timestamptz NOT NULL DEFAULT now(),
            CHECK (NOT wildcard OR identifier_type = 'dns')
        );
        CREATE TRIGGER authorizations_touch BEFORE UPDATE ON authorizations
            FOR EACH ROW EXECUTE FUNCTION acmeeh_touch_updated_at();
        -- reuse of a valid authorization for the same account and identifier
        CREATE INDEX authorizations_reuse_idx
            ON authorizations (account_id, identifier_type, identifier_value, wildcard, expires)
            WHERE status = 'valid';
        -- expiry of pending ones, cleanup of old ones
        CREATE INDEX authorizations_expires_idx ON authorizations (expires);
        -- account deactivation (§7.3.6) touches its pending/valid authorizations
        CREATE INDEX authorizations_account_idx ON authorizations (account_id, status);

        -- an order's authorizations (§7.1.3 "authorizations"), in identifier order
        CREATE TABLE order_authorizations (
            order_id          uuid NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
            authorization_id  uuid NOT NULL REFERENCES authorizations(id) ON DELETE CASCADE,
            position          integer NOT NULL DEFAULT 0,
            PRIMARY KEY (order_id, authorization_id)
        );
        CREATE INDEX order_authorizations_authz_idx ON order_authorizations (authorization_id);

        -- RFC 8555 §7.1.5, §8
        CREATE TABLE challenges (
            id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            authorization_id  uuid NOT NULL REFERENCES authorizations(id) ON DELETE CASCADE,
            -- http-01, dns-01, tls-alpn-01, dns-persist-01 or a plugin's type
            type              text NOT NULL CHECK (type ~ '^[a-z0-9][a-z0-9.-]*$'),
            -- §8.1 token; NULL for types without one (dns-persist-01)
            token             text,
            status            text NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
            error             jsonb,
            validated_at      timestamptz,
            retry_count       integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
            next_retry_at     timestamptz,
            -- the worker/instance validating it, and since when (stale lock recovery)
            locked_by         text,
            locked_at         timestamptz,
            created_at        timestamptz NOT NULL DEFAULT now(),
            updated_at        timestamptz NOT NULL DEFAULT now(),
            UNIQUE (authorization_id, type),
            CHECK ((locked_by IS NULL) = (locked_at IS NULL))
        );
        CREATE TRIGGER challenges_touch BEFORE UPDATE ON challenges
            FOR EACH ROW EXECUTE FUNCTION acmeeh_touch_updated_at();
        -- the challenge worker: pending retries that are due
        CREATE INDEX challenges_retry_idx ON challenges (next_retry_at) WHERE status = 'pending';
        -- stale lock recovery
        CREATE INDEX challenges_locked_idx ON challenges (locked_at) WHERE status = 'processing';

        -- issued certificates (RFC 8555 §7.4.2), revocation (§7.6)
        CREATE TABLE certificates (
            id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            account_id              uuid NOT NULL REFERENCES accounts(id),
            order_id                uuid REFERENCES orders(id) ON DELETE SET NULL,
            serial                  text NOT NULL UNIQUE CHECK (serial ~ '^[0-9a-f]+$'),
            -- SHA-256 of the leaf's DER (revokeCert looks certificates up by it)
            fingerprint             text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
            -- leaf + chain, PEM, as served by the certificate URL
            pem_chain               text NOT NULL,
            not_before              timestamptz NOT NULL,
            not_after               timestamptz NOT NULL,
            -- SHA-256 of the leaf's SubjectPublicKeyInfo DER (revocation by the cert key)
            public_key_fingerprint  text NOT NULL CHECK (public_key_fingerprint ~ '^[0-9a-f]{64}$'),
            san_values              text[] NOT NULL DEFAULT '{}',
            ca_backend              text NOT NULL,
            revoked_at              timestamptz,
            -- RFC 5280 §5.3.1 CRLReason (7 is unused)
            revocation_reason       smallint CHECK (revocation_reason IN (0, 1, 2, 3, 4, 5, 6, 8, 9, 10)),
            created_at              timestamptz NOT NULL DEFAULT now(),
            CHECK (revocation_reason IS NULL OR revoked_at IS NOT NULL),
            CHECK (not_after > not_before)
        );
        CREATE INDEX certificates_not_after_idx ON certificates (not_after);
        CREATE INDEX certificates_san_idx ON certificates USING GIN (san_values);
        CREATE INDEX certificates_account_idx ON certificates (account_id);
        CREATE INDEX certificates_order_idx ON certificates (order_id);
        CREATE INDEX certificates_public_key_idx ON certificates (public_key_fingerprint);
        -- CRL building
        CREATE INDEX certificates_revoked_idx ON certificates (revoked_at) WHERE revoked_at IS NOT NULL;

        ALTER TABLE orders ADD CONSTRAINT orders_certificate_fk
            FOREIGN KEY (certificate_id) REFERENCES certificates(id) ON DELETE SET NULL;

        -- RFC 8555 §7.2: issued nonces until used or expired
        CREATE TABLE nonces (
            value       text PRIMARY KEY,
            expires_at  timestamptz NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX nonces_expires_idx ON nonces (expires_at);

        -- RFC 8555 §7.3.4: external account binding keys, issued by the admin API
        CREATE TABLE eab_credentials (
            id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            kid         text NOT NULL UNIQUE CHECK (kid <> ''),
            -- the raw MAC key (clients get it base64url-encoded)
            hmac_key    bytea NOT NULL CHECK (octet_length(hmac_key) > 0),
            label       text,
            -- the account it was last bound to
            account_id  uuid REFERENCES accounts(id) ON DELETE SET NULL,
            used        boolean NOT NULL DEFAULT false,
            used_at     timestamptz,
            revoked     boolean NOT NULL DEFAULT false,
            created_at  timestamptz NOT NULL DEFAULT now()
        );

        ALTER TABLE accounts ADD CONSTRAINT accounts_eab_kid_fk
            FOREIGN KEY (eab_kid) REFERENCES eab_credentials(kid) ON UPDATE CASCADE ON DELETE SET NULL;
        CREATE INDEX accounts_eab_kid_idx ON accounts (eab_kid) WHERE eab_kid IS NOT NULL;

        -- cluster-wide switches shared by all instances (e.g. maintenance_mode)
        CREATE TABLE server_settings (
            key         text PRIMARY KEY,
            value       jsonb NOT NULL,
            updated_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE TRIGGER server_settings_touch BEFORE UPDATE ON server_settings
            FOR EACH ROW EXECUTE FUNCTION acmeeh_touch_updated_at();

        -- serials for `serial_source: database` (lowercase hex of nextval)
        CREATE SEQUENCE certificate_serial_seq AS bigint START WITH 1 INCREMENT BY 1 NO CYCLE;
        """#
}
