/*
 * acmeeh plugin ABI, version 1.
 *
 * A plugin is a shared library that exports exactly one symbol,
 * `acmeeh_plugin_register`, which returns a static descriptor. The descriptor
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
 * Versioning: ACMEEH_ABI_VERSION = (major << 16) | minor. The host refuses a
 * plugin whose major differs from its own. Within a major, structs only grow by
 * appending fields; every struct begins with `struct_size`, set by whoever
 * allocated the struct, so each side can tell which fields the other knows.
 * A minor bump may append fields; readers check `struct_size` before reading
 * any field past the v1.0 layout.
 */
#ifndef ACMEEH_PLUGIN_H
#define ACMEEH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACMEEH_ABI_VERSION_MAJOR 1
#define ACMEEH_ABI_VERSION_MINOR 0
#define ACMEEH_ABI_VERSION 0x00010000u

/* The one symbol a plugin exports. */
#define ACMEEH_PLUGIN_ENTRY_SYMBOL "acmeeh_plugin_register"

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
} acmeeh_notification;

/* ----------------------------------------------------------- descriptor ---- */

/*
 * What `acmeeh_plugin_register` returns: static, never freed, never changed.
 * Function pointers of other kinds are NULL. Required: create, destroy,
 * buffer_free; ca_sign and ca_revoke for a CA; challenge_types and
 * challenge_validate for a validator; notifier_deliver for a notifier. The
 * others may be NULL. The host always passes an acmeeh_error whose struct_size
 * covers this header's layout; a plugin that sees a smaller one writes nothing.
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
    /* Issues a certificate: OK (result filled), PENDING (handle filled) or ERROR. */
    int32_t (*ca_sign)(void *instance, const acmeeh_ca_sign_request *request,
                       acmeeh_ca_sign_result *result, acmeeh_error *err);
    /* Asks again about a PENDING sign; same outcomes as ca_sign. NULL if the plugin never answers PENDING. */
    int32_t (*ca_poll)(void *instance, const char *pending_handle, int64_t deadline_ms,
                       acmeeh_ca_sign_result *result, acmeeh_error *err);
    /* Revokes a certificate; the host has already recorded the revocation. */
    int32_t (*ca_revoke)(void *instance, const acmeeh_ca_revoke_request *request, acmeeh_error *err);

    /* ACMEEH_KIND_CHALLENGE. */
    const acmeeh_challenge_type_info *challenge_types; /* static array */
    size_t challenge_type_count;
    /* OK: the challenge is satisfied. ERROR: not satisfied; retryable says whether to try again. */
    int32_t (*challenge_validate)(void *instance, const acmeeh_challenge_request *request, acmeeh_error *err);
    /* Releases anything validate left behind. May be NULL. Errors are ignored. */
    void (*challenge_cleanup)(void *instance, const acmeeh_challenge_request *request);

    /* ACMEEH_KIND_NOTIFIER. */
    int32_t (*notifier_deliver)(void *instance, const acmeeh_notification *notification, acmeeh_error *err);
} acmeeh_plugin_descriptor;

/* Size of the v1.0 descriptor: the host refuses a smaller struct_size. */
#define ACMEEH_DESCRIPTOR_V1_SIZE \
    (offsetof(acmeeh_plugin_descriptor, notifier_deliver) + sizeof(void *))

/*
 * The entry point. `host_abi_version` is the host's ACMEEH_ABI_VERSION; a
 * plugin that cannot serve that major returns its descriptor anyway (the host
 * reports the mismatch) or NULL. Called once per load, from one thread.
 */
typedef const acmeeh_plugin_descriptor *(*acmeeh_plugin_register_fn)(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* ACMEEH_PLUGIN_H */
