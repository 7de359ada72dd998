/*
 * acmeeh plugin ABI, version 1.1.
 *
 * A plugin is a shared library that exports exactly one symbol,
 * `acmeeh_plugin_register` (declared below with ACMEEH_PLUGIN_EXPORT), which
 * returns a static descriptor. The descriptor
 * names the plugin's kind (CA, challenge validator or notifier) and carries its
 * function pointers. The host creates one or more *instances* of a plugin, each
 * with its own configuration, and calls the kind's functions on them.
 *
 * Rules that hold for every function below unless it says otherwise:
 *
 *  - Only C types cross the boundary. Strings are NUL-terminated UTF-8.
 *  - Inputs are borrowed: they are valid only for the duration of the call, and
 *    the plugin must copy anything it keeps.
 *  - Outputs that are pointers are allocated by the plugin and released by the
 *    host through the descriptor's `buffer_free`, exactly once each. The host
 *    never frees them with its own allocator.
 *  - A function returns an `ACMEEH_STATUS_*` code. On ACMEEH_STATUS_ERROR it fills
 *    the caller-owned `acmeeh_error` and leaves every output pointer NULL (or
 *    frees what it allocated before failing).
 *  - Blocking functions receive `deadline_ms`: an absolute CLOCK_MONOTONIC time
 *    in milliseconds. The plugin returns by then; when it cannot finish in time
 *    it fails with ACMEEH_E_DEADLINE and `retryable = 1`.
 *  - Threading: `create` and `destroy` of one instance are never called
 *    concurrently with any other call on that instance. Every other function may
 *    be called concurrently from several host threads, on the same instance, and
 *    must be thread-safe. The host never calls a plugin from an event loop, so
 *    plugins may block (network, disk, HSM) until their deadline.
 *  - Plugins must not call exit(), install signal handlers, or write to stdout;
 *    they log through `acmeeh_host_api.log`.
 *
 * Versioning: ACMEEH_ABI_VERSION = (major << 16) | minor.
 *  - The host refuses a plugin whose major differs from its own. Any minor is
 *    accepted in both directions: a 1.1 host loads a 1.0 plugin, a 1.0 host
 *    loads a 1.1 plugin (and never calls what it does not know).
 *  - Within a major, structs only grow by appending fields, never by changing
 *    or reordering one. Every struct begins with `struct_size`, set by whoever
 *    allocated it to its own sizeof, so each side can tell which fields the
 *    other knows.
 *  - The size of each struct's v1.0 layout is frozen below as a literal
 *    (ACMEEH_*_V1_SIZE). A reader refuses a struct smaller than that, and reads
 *    only min(struct_size, its own sizeof) bytes: fields past the writer's
 *    struct_size are absent (zero, NULL; an absent function is NULL), fields
 *    past the reader's own sizeof are ignored. Never compare struct_size with
 *    sizeof: a newer peer's struct is larger, an older one's smaller.
 *  - What each minor added is listed where it was added ("Since 1.1").
 *  - Elements of arrays (acmeeh_challenge_type_info, acmeeh_crl_entry) carry
 *    no struct_size and are frozen for the major.
 */
#ifndef ACMEEH_PLUGIN_H
#define ACMEEH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACMEEH_ABI_VERSION_MAJOR 1u
#define ACMEEH_ABI_VERSION_MINOR 1u
#define ACMEEH_ABI_VERSION ((ACMEEH_ABI_VERSION_MAJOR << 16) | ACMEEH_ABI_VERSION_MINOR)

/* The one symbol a plugin exports. */
#define ACMEEH_PLUGIN_ENTRY_SYMBOL "acmeeh_plugin_register"

/*
 * Put on the definition of acmeeh_plugin_register so it is exported even when
 * the plugin is compiled with -fvisibility=hidden. (Plugins/exports.map then
 * hides every other symbol.)
 */
#if defined(_WIN32)
#define ACMEEH_PLUGIN_EXPORT __declspec(dllexport)
#else
#define ACMEEH_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/*
 * Sizes of the v1.0 layouts, frozen (LP64: Linux and macOS on 64-bit CPUs, the
 * only targets of acmeeh). A struct_size below these is refused; the checks at
 * the end of this header keep them honest.
 */
#define ACMEEH_ERROR_V1_SIZE 1164u
#define ACMEEH_HOST_API_V1_SIZE 24u
#define ACMEEH_CREATE_PARAMS_V1_SIZE 48u
#define ACMEEH_CA_SIGN_REQUEST_V1_SIZE 80u
#define ACMEEH_CA_SIGN_RESULT_V1_SIZE 64u
#define ACMEEH_CA_REVOKE_REQUEST_V1_SIZE 48u
#define ACMEEH_CHALLENGE_REQUEST_V1_SIZE 72u
#define ACMEEH_NOTIFICATION_V1_SIZE 64u
#define ACMEEH_DESCRIPTOR_V1_SIZE 136u
/* Since 1.1 (the smallest size of what 1.1 added): the descriptor through ca_features, the sign request
 * through sct_list_len, the notification through body_html, the CRL structs. */
#define ACMEEH_DESCRIPTOR_V1_1_SIZE 152u
#define ACMEEH_CA_SIGN_REQUEST_V1_1_SIZE 120u
#define ACMEEH_NOTIFICATION_V1_1_SIZE 72u
#define ACMEEH_CA_CRL_REQUEST_V1_1_SIZE 72u
#define ACMEEH_CA_CRL_RESULT_V1_1_SIZE 24u

/* Plugin kinds. */
#define ACMEEH_KIND_CA 1
#define ACMEEH_KIND_CHALLENGE 2
#define ACMEEH_KIND_NOTIFIER 3

/* Return codes of every plugin function that returns int32_t. */
#define ACMEEH_STATUS_OK 0
#define ACMEEH_STATUS_ERROR 1   /* failed; see the acmeeh_error */
#define ACMEEH_STATUS_PENDING 2 /* CA sign/poll only: accepted, ask again later */

/* acmeeh_error.code values. */
#define ACMEEH_E_INTERNAL 1      /* a bug or an unexpected failure inside the plugin */
#define ACMEEH_E_CONFIG 2        /* the instance's configuration is unusable */
#define ACMEEH_E_INVALID_INPUT 3 /* the request itself is wrong (bad CSR, bad identifier) */
#define ACMEEH_E_UNAVAILABLE 4   /* a backend, server or network is unreachable */
#define ACMEEH_E_DEADLINE 5      /* the deadline passed before the work finished */
#define ACMEEH_E_REJECTED 6      /* the CA or the validation refused (final answer) */
#define ACMEEH_E_UNSUPPORTED 7   /* the operation or input is not supported */

/* Log levels of acmeeh_host_api.log (the order of swift-log's levels). */
#define ACMEEH_LOG_TRACE 0
#define ACMEEH_LOG_DEBUG 1
#define ACMEEH_LOG_INFO 2
#define ACMEEH_LOG_NOTICE 3
#define ACMEEH_LOG_WARNING 4
#define ACMEEH_LOG_ERROR 5
#define ACMEEH_LOG_CRITICAL 6

/* Identifier types a challenge validator supports (bit set). */
#define ACMEEH_IDENTIFIER_DNS 0x1u
#define ACMEEH_IDENTIFIER_IP 0x2u

/* Since 1.1. What a CA can do beyond the required functions (acmeeh_plugin_descriptor.ca_features bits). */
#define ACMEEH_CA_FEATURE_PRECERTIFICATE 0x1u /* ca_sign honours precertificate and sct_list (RFC 6962) */

#define ACMEEH_PROBLEM_TYPE_MAX 128
#define ACMEEH_DETAIL_MAX 1024

/*
 * An error, owned by the caller (the host), filled by the plugin.
 * `problem_type` is a full ACME problem URN such as
 * "urn:ietf:params:acme:error:badCSR"; empty means serverInternal.
 * `retryable` = 1 says the same call may succeed later (network down, CA busy);
 * 0 says the answer is final. Both strings are NUL-terminated and truncated to
 * fit. `detail` is shown to ACME clients: it must not contain secrets.
 */
typedef struct acmeeh_error {
    uint32_t struct_size; /* set by the host */
    int32_t code;         /* ACMEEH_E_* */
    int32_t retryable;    /* 0 or 1 */
    char problem_type[ACMEEH_PROBLEM_TYPE_MAX];
    char detail[ACMEEH_DETAIL_MAX];
} acmeeh_error;

/*
 * Functions the host offers to plugins. Handed to `create`; valid until
 * `destroy` of that instance returns (after a failed `create`, not at all: the
 * plugin must not keep it). Every function may be called from any thread.
 */
typedef struct acmeeh_host_api {
    uint32_t struct_size;
    uint32_t abi_version; /* the host's ACMEEH_ABI_VERSION */
    void *ctx;            /* pass back as the first argument */
    /* Writes one log line attributed to the instance. `message` is borrowed. */
    void (*log)(void *ctx, int32_t level, const char *message);
} acmeeh_host_api;

/* Parameters of `create`. Borrowed for the call. */
typedef struct acmeeh_create_params {
    uint32_t struct_size;
    const acmeeh_host_api *host;
    /* The plugin's configuration subtree as a JSON object (never NULL; "{}" when empty). */
    const char *config_json;
    /* Where the config came from, e.g. "ca.internal" or "challenges.http01", for messages. */
    const char *config_path;
    /* Challenge kind only: the challenge type this instance will serve, e.g. "dns-01". */
    const char *challenge_type;
    /* create may do I/O (read keys, probe a backend) but returns by this time. */
    int64_t deadline_ms;
} acmeeh_create_params;

/* ---------------------------------------------------------------- CA ---- */

/* A request to issue one certificate. Borrowed for the call. */
typedef struct acmeeh_ca_sign_request {
    uint32_t struct_size;
    const uint8_t *csr_der; /* PKCS#10, already checked by the host (signature, SANs, key policy); a DNS
                               name may be in the subject CN only (RFC 8555 §7.4): the leaf's SAN must carry it */
    size_t csr_der_len;
    const char *profile;      /* "default" or a name from ca.profiles */
    const char *profile_json; /* that profile's settings as JSON (key_usages, extended_key_usages, ...); "{}" for default */
    int64_t not_before;       /* unix seconds; 0 = now */
    int64_t not_after;        /* unix seconds; 0 = not_before + validity_days */
    uint32_t validity_days;   /* already clamped to ca.max_validity_days by the host */
    const char *serial_hex;   /* serial chosen by the host in canonical form (lowercase hex, an even number
                                 of digits, no leading zero byte), or NULL: the plugin chooses */
    int64_t deadline_ms;
    /* Since 1.1 (read only when struct_size covers them). */
    const char *crl_distribution_point; /* URL for the leaf's CRL Distribution Points extension
                                           (RFC 5280 §4.2.1.13), or NULL: the host publishes no CRL */
    const char *ocsp_url;               /* URL for the leaf's Authority Information Access id-ad-ocsp
                                           (RFC 5280 §4.2.2.1), or NULL: no OCSP responder */
    /* Certificate Transparency (RFC 6962 §3.1), only sent to a CA whose ca_features has
       ACMEEH_CA_FEATURE_PRECERTIFICATE. precertificate = 1: sign a precertificate, i.e. the leaf
       this request describes plus the critical poison extension (1.3.6.1.4.1.11129.2.4.3, value
       NULL) as its last extension, signed by the issuing CA itself; PENDING is not allowed then.
       The host then asks for the final certificate with the same request, serial_hex, not_before
       and not_after, precertificate = 0 and sct_list set: the leaf gets the non-critical
       1.3.6.1.4.1.11129.2.4.2 extension (an OCTET STRING holding these bytes) as its last
       extension, and every other byte of the TBSCertificate equal to the precertificate's. */
    int32_t precertificate;
    const uint8_t *sct_list; /* a TLS-encoded SignedCertificateTimestampList, or NULL */
    size_t sct_list_len;
} acmeeh_ca_sign_request;

/*
 * The outcome of sign or poll. The struct is the host's; the pointers in it
 * are the plugin's, released with buffer_free.
 * On ACMEEH_STATUS_OK: pem_chain (leaf first, then each issuer in order up to
 * and including the root the CA wants clients to see; pem_chain_len bytes of
 * PEM text, not counting a terminating NUL, which the plugin may add),
 * serial_hex, not_before and not_after are set.
 * On ACMEEH_STATUS_PENDING: pending_handle (an opaque string the plugin
 * understands in `ca_poll`) and retry_after_seconds are set.
 */
typedef struct acmeeh_ca_sign_result {
    uint32_t struct_size; /* set by the host */
    char *pem_chain;
    size_t pem_chain_len;
    char *serial_hex; /* the leaf's serial in canonical form (see the request); equal to the host's when one was handed in */
    int64_t not_before;
    int64_t not_after;
    char *pending_handle;
    uint32_t retry_after_seconds;
} acmeeh_ca_sign_result;

/* A request to revoke one certificate this CA issued. Borrowed for the call. */
typedef struct acmeeh_ca_revoke_request {
    uint32_t struct_size;
    const char *serial_hex;
    const uint8_t *certificate_der;
    size_t certificate_der_len;
    int32_t reason; /* RFC 5280 CRLReason code, or -1 when none was given */
    int64_t deadline_ms;
} acmeeh_ca_revoke_request;

/*
 * Since 1.1. One revoked certificate on a CRL: an element of a host-owned
 * array, frozen for ABI major 1 (no struct_size; a later minor that needs more
 * per-entry data appends a parallel array to acmeeh_ca_crl_request).
 */
typedef struct acmeeh_crl_entry {
    const uint8_t *serial;   /* the serial number: unsigned big-endian magnitude, 1..21 bytes */
    size_t serial_len;
    int64_t revocation_time; /* unix seconds (revocationDate) */
    int32_t reason;          /* RFC 5280 CRLReason code (reasonCode entry extension), -1: none, omit it */
} acmeeh_crl_entry;

/* Since 1.1. A request to sign one CRL (ca_sign_crl). Borrowed for the call. */
typedef struct acmeeh_ca_crl_request {
    uint32_t struct_size;
    const acmeeh_crl_entry *entries; /* entry_count elements, in the order to list them; NULL when 0 */
    size_t entry_count;
    int64_t this_update;             /* unix seconds */
    int64_t next_update;             /* unix seconds, after this_update */
    const uint8_t *crl_number;       /* cRLNumber: unsigned big-endian magnitude, 1..20 bytes */
    size_t crl_number_len;
    const char *hash_algorithm;      /* "sha256", "sha384" or "sha512"; NULL or "": the plugin's own default */
    int64_t deadline_ms;
} acmeeh_ca_crl_request;

/*
 * Since 1.1. The outcome of ca_sign_crl. The struct is the host's; crl_der is
 * the plugin's, released with buffer_free. On ACMEEH_STATUS_OK, crl_der holds
 * crl_der_len bytes: one DER CertificateList.
 */
typedef struct acmeeh_ca_crl_result {
    uint32_t struct_size; /* set by the host */
    uint8_t *crl_der;
    size_t crl_der_len;
} acmeeh_ca_crl_result;

/* --------------------------------------------------------- challenges ---- */

/*
 * One challenge type a validator serves. Elements of a static array, so this
 * struct is frozen for ABI major 1: a minor version that needs more per-type
 * data appends a new array to the descriptor instead.
 */
typedef struct acmeeh_challenge_type_info {
    const char *challenge_type; /* "http-01", "dns-01", ... */
    uint32_t identifier_types;  /* ACMEEH_IDENTIFIER_* bits */
    int32_t uses_token;         /* 0 for types without a token (dns-persist-01) */
} acmeeh_challenge_type_info;

/* A request to validate one challenge. Borrowed for the call. */
typedef struct acmeeh_challenge_request {
    uint32_t struct_size;
    const char *challenge_type;
    const char *identifier_type;   /* "dns" or "ip" */
    const char *identifier_value;  /* lowercase A-label or IP text; never starts with "*." */
    const char *token;             /* NULL when the type uses no token */
    const char *key_authorization; /* token "." base64url(JWK thumbprint); NULL when no token */
    const char *account_url;
    int32_t wildcard; /* 1 when the authorization is for "*." + identifier_value */
    int64_t deadline_ms;
} acmeeh_challenge_request;

/* ----------------------------------------------------------- notifier ---- */

/* One message to deliver. Borrowed for the call. */
typedef struct acmeeh_notification {
    uint32_t struct_size;
    const char *event; /* e.g. "certificate.issuance", "expiration_warning" */
    const char *const *recipients;
    size_t recipient_count;
    const char *subject;
    const char *body;
    const char *payload_json; /* the event's data as a JSON object */
    int64_t deadline_ms;
    /* Since 1.1. */
    const char *body_html; /* an HTML alternative of body (mail sends both as multipart/alternative), or NULL */
} acmeeh_notification;

/* ----------------------------------------------------------- descriptor ---- */

/*
 * What `acmeeh_plugin_register` returns: static, never freed, never changed.
 * Function pointers of other kinds are NULL. Required: create, destroy,
 * buffer_free; ca_sign and ca_revoke for a CA; challenge_types and
 * challenge_validate for a validator; notifier_deliver for a notifier. The
 * others may be NULL, and every function added after 1.0 is optional: a
 * required function is never added within major 1. The host always passes an
 * acmeeh_error of at least ACMEEH_ERROR_V1_SIZE; a plugin that sees a smaller
 * one writes nothing.
 *
 * One flat table for every kind, grown by appending (not per-kind sub-structs):
 * one struct_size covers every function, a plugin fills the fields it has by
 * name (designated initializers), and an unused slot costs one NULL pointer.
 */
typedef struct acmeeh_plugin_descriptor {
    uint32_t struct_size;   /* sizeof(acmeeh_plugin_descriptor) as the plugin was built */
    uint32_t abi_version;   /* ACMEEH_ABI_VERSION the plugin was built against */
    int32_t kind;           /* ACMEEH_KIND_* */
    const char *name;       /* short, stable, e.g. "CAFile" */
    const char *version;    /* the plugin's own version */
    const char *description;

    /*
     * Creates an instance. On success stores it in *instance and returns OK.
     * On failure fills err (detail quoted by the host at startup, so name the
     * config key and what is wrong) and returns ERROR; *instance stays NULL.
     * May do I/O (read keys, open sessions); should finish within seconds.
     */
    int32_t (*create)(const acmeeh_create_params *params, void **instance, acmeeh_error *err);
    /* Releases an instance. Called once, after every other call on it returned. */
    void (*destroy)(void *instance);
    /* Releases a pointer this plugin returned. NULL is ignored. */
    void (*buffer_free)(void *buffer);
    /*
     * Checks that the instance can work now (key readable, backend reachable).
     * Called at startup and by health checks. May be NULL (always healthy).
     */
    int32_t (*self_check)(void *instance, int64_t deadline_ms, acmeeh_error *err);

    /* ACMEEH_KIND_CA. */
    /*
     * Issues a certificate: OK (result filled), PENDING (handle filled) or ERROR.
     * Retries and failover: after an ERROR with retryable = 1 (E_DEADLINE and
     * E_UNAVAILABLE included) or code E_CONFIG, the host may call ca_sign again
     * with the same request: on the next ca.failover backend (today), or on
     * this instance again (a host may retry). So answer retryable = 1 only
     * when no certificate was issued. A plugin that cannot know (the request
     * reached a remote CA, the answer was lost) answers PENDING with a handle
     * that finds the outcome, or accepts that a duplicate may be signed: the
     * host never delivers nor revokes a certificate whose ca_sign did not
     * return OK. When the host hands serial_hex, every retry of one issuance
     * carries the same serial, which a remote CA can use to recognise a
     * repeat. retryable = 0 is final: no other backend is asked. When no
     * backend issued, the order is invalid with the last error's problem_type.
     */
    int32_t (*ca_sign)(void *instance, const acmeeh_ca_sign_request *request,
                       acmeeh_ca_sign_result *result, acmeeh_error *err);
    /*
     * Asks again about a PENDING sign; same outcomes as ca_sign. NULL if the
     * plugin never answers PENDING.
     * Handle lifetime: the host stores the handle with the order in its
     * database and polls until OK, an ERROR with retryable = 0, or
     * ca.deferred_signing_timeout since the first PENDING (then the order is
     * invalid and the handle is never passed again). Polls may come from
     * another instance of the same plugin, with the same configuration, after
     * a host restart or from another host process sharing the database: the
     * handle must name the job by itself, not point into instance memory. A
     * retryable ERROR keeps the handle; PENDING again may return a new handle,
     * which replaces the old one (the timeout still counts from the first
     * PENDING). Keep it short printable text.
     */
    int32_t (*ca_poll)(void *instance, const char *pending_handle, int64_t deadline_ms,
                       acmeeh_ca_sign_result *result, acmeeh_error *err);
    /*
     * Revokes a certificate; the host has already recorded the revocation
     * (its CRLs list the certificate whatever this returns). May be called
     * again for the same serial after a retryable ERROR: revoking twice is OK.
     */
    int32_t (*ca_revoke)(void *instance, const acmeeh_ca_revoke_request *request, acmeeh_error *err);

    /* ACMEEH_KIND_CHALLENGE. */
    const acmeeh_challenge_type_info *challenge_types; /* static array */
    size_t challenge_type_count;
    /* OK: the challenge is satisfied. ERROR: not satisfied; retryable says whether to try again. */
    int32_t (*challenge_validate)(void *instance, const acmeeh_challenge_request *request, acmeeh_error *err);
    /*
     * Releases anything validate left behind. May be NULL. Errors are ignored.
     * When: once after each challenge_validate call has returned, whatever its
     * outcome (OK, a final or a retryable ERROR), with the same request, on the
     * same instance; the host may already have recorded the result. A retried
     * validation is a new validate + cleanup pair. Never concurrently with the
     * validate it follows; possibly concurrently with other validations. Not
     * called if the host stops between the two: a plugin that leaves state
     * outside the process (a DNS record, a file) must expire it by itself.
     */
    void (*challenge_cleanup)(void *instance, const acmeeh_challenge_request *request);

    /* ACMEEH_KIND_NOTIFIER. */
    /*
     * Hands one message to the transport. OK means it was accepted (an SMTP
     * server took it, a webhook answered 2xx), not that anyone read it.
     * Delivery is at least once: after a retryable ERROR the host may deliver
     * the same notification again (same event, recipients and payload), so
     * receivers must tolerate a duplicate; retryable = 0 drops it. No order
     * between notifications is promised. `recipients` may be empty (a webhook
     * needs none).
     */
    int32_t (*notifier_deliver)(void *instance, const acmeeh_notification *notification, acmeeh_error *err);

    /* ---- since 1.1: absent (NULL) in a 1.0 plugin's shorter descriptor ---- */

    /*
     * ACMEEH_KIND_CA, optional. Signs one RFC 5280 v2 CRL: issuer = this
     * instance's own issuing certificate, signed with its key using
     * hash_algorithm; revokedCertificates = the entries (serial,
     * revocationDate, a reasonCode entry extension when reason >= 0); the
     * cRLNumber and authorityKeyIdentifier (keyIdentifier = the issuer's
     * subjectKeyIdentifier) extensions; thisUpdate and nextUpdate as given.
     * OK: result->crl_der filled. PENDING is not allowed. The plugin keeps no
     * CRL state: the host chooses the entries and the number, and may call
     * again with the same request (retries, several host processes); each call
     * signs anew. NULL: the CA cannot sign CRLs.
     */
    int32_t (*ca_sign_crl)(void *instance, const acmeeh_ca_crl_request *request,
                           acmeeh_ca_crl_result *result, acmeeh_error *err);
    /* ACMEEH_KIND_CA: ACMEEH_CA_FEATURE_* bits; 0 (absent in 1.0) = none. */
    uint64_t ca_features;
} acmeeh_plugin_descriptor;

/*
 * The entry point, exported by every plugin. `host_abi_version` is the host's
 * ACMEEH_ABI_VERSION; a plugin that cannot serve that major returns its
 * descriptor anyway (the host reports the mismatch) or NULL. A plugin may read
 * the host's minor to avoid relying on what an older host does not call.
 * Called once per load, from one thread. Define it as
 *   ACMEEH_PLUGIN_EXPORT const acmeeh_plugin_descriptor *
 *   acmeeh_plugin_register(uint32_t host_abi_version) { ... }
 */
ACMEEH_PLUGIN_EXPORT const acmeeh_plugin_descriptor *acmeeh_plugin_register(uint32_t host_abi_version);
typedef const acmeeh_plugin_descriptor *(*acmeeh_plugin_register_fn)(uint32_t host_abi_version);

/* The frozen sizes above are the layouts' real sizes. */
#if defined(__cplusplus)
#define ACMEEH_STATIC_ASSERT(condition, message) static_assert(condition, message)
#else
#define ACMEEH_STATIC_ASSERT(condition, message) _Static_assert(condition, message)
#endif
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_error) == ACMEEH_ERROR_V1_SIZE, "acmeeh_error v1.0 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_host_api) == ACMEEH_HOST_API_V1_SIZE, "acmeeh_host_api v1.0 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_create_params) == ACMEEH_CREATE_PARAMS_V1_SIZE, "acmeeh_create_params v1.0 size");
ACMEEH_STATIC_ASSERT(offsetof(acmeeh_ca_sign_request, deadline_ms) + sizeof(int64_t) == ACMEEH_CA_SIGN_REQUEST_V1_SIZE,
                     "acmeeh_ca_sign_request v1.0 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_ca_sign_result) == ACMEEH_CA_SIGN_RESULT_V1_SIZE, "acmeeh_ca_sign_result v1.0 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_ca_revoke_request) == ACMEEH_CA_REVOKE_REQUEST_V1_SIZE, "acmeeh_ca_revoke_request v1.0 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_challenge_request) == ACMEEH_CHALLENGE_REQUEST_V1_SIZE, "acmeeh_challenge_request v1.0 size");
ACMEEH_STATIC_ASSERT(offsetof(acmeeh_notification, deadline_ms) + sizeof(int64_t) == ACMEEH_NOTIFICATION_V1_SIZE,
                     "acmeeh_notification v1.0 size");
ACMEEH_STATIC_ASSERT(offsetof(acmeeh_plugin_descriptor, notifier_deliver) + sizeof(void *) == ACMEEH_DESCRIPTOR_V1_SIZE,
                     "acmeeh_plugin_descriptor v1.0 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_plugin_descriptor) == ACMEEH_DESCRIPTOR_V1_1_SIZE,
                     "acmeeh_plugin_descriptor v1.1 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_ca_sign_request) == ACMEEH_CA_SIGN_REQUEST_V1_1_SIZE, "acmeeh_ca_sign_request v1.1 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_notification) == ACMEEH_NOTIFICATION_V1_1_SIZE, "acmeeh_notification v1.1 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_ca_crl_request) == ACMEEH_CA_CRL_REQUEST_V1_1_SIZE, "acmeeh_ca_crl_request v1.1 size");
ACMEEH_STATIC_ASSERT(sizeof(acmeeh_ca_crl_result) == ACMEEH_CA_CRL_RESULT_V1_1_SIZE, "acmeeh_ca_crl_result v1.1 size");
#undef ACMEEH_STATIC_ASSERT

#ifdef __cplusplus
}
#endif

#endif /* ACMEEH_PLUGIN_H */
