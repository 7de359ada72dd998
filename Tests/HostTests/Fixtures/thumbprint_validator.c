/*
 * A challenge validator written in plain C, used by PluginLoaderTests.
 *
 * Config: {"thumbprint": "<base64url JWK thumbprint>"}. validate() accepts when
 * key_authorization == token "." thumbprint (RFC 8555 §8.1) and rejects otherwise with
 * incorrectResponse. Special tokens drive the other paths the host must map:
 *   "unavailable"  -> ERROR, ACMEEH_E_UNAVAILABLE, retryable, empty problem type
 *   "remaining"    -> ERROR whose detail is "remaining_ms=<deadline - now>"
 *   "bogus-status" -> returns 42
 * Every validate logs one line through the host API. It allocates nothing per call.
 */
#include <acmeeh_plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const acmeeh_host_api *host;
    char thumbprint[128];
} validator;

static void fill_error(acmeeh_error *err, int32_t code, int32_t retryable, const char *type, const char *detail) {
    err->code = code;
    err->retryable = retryable;
    snprintf(err->problem_type, sizeof err->problem_type, "%s", type);
    snprintf(err->detail, sizeof err->detail, "%s", detail);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int32_t create(const acmeeh_create_params *params, void **instance, acmeeh_error *err) {
    /* Crude JSON reading: find "thumbprint" then the next quoted string. */
    const char *key = strstr(params->config_json, "\"thumbprint\"");
    const char *open = key ? strchr(key + 12, '"') : NULL;
    const char *close = open ? strchr(open + 1, '"') : NULL;
    if (!close || (size_t)(close - open - 1) >= sizeof(((validator *)0)->thumbprint)) {
        char detail[256];
        snprintf(detail, sizeof detail, "%s: missing \"thumbprint\" (%%s stays literal)", params->config_path);
        fill_error(err, ACMEEH_E_CONFIG, 0, "", detail);
        return ACMEEH_STATUS_ERROR;
    }
    validator *v = calloc(1, sizeof *v);
    if (!v) { fill_error(err, ACMEEH_E_INTERNAL, 0, "", "out of memory"); return ACMEEH_STATUS_ERROR; }
    v->host = params->host;
    memcpy(v->thumbprint, open + 1, (size_t)(close - open - 1));
    char line[256];
    snprintf(line, sizeof line, "created for %s serving %s", params->config_path, params->challenge_type);
    v->host->log(v->host->ctx, ACMEEH_LOG_NOTICE, line);
    *instance = v;
    return ACMEEH_STATUS_OK;
}

static void destroy(void *instance) { free(instance); }

static int32_t validate(void *instance, const acmeeh_challenge_request *req, acmeeh_error *err) {
    validator *v = instance;
    char line[512];
    snprintf(line, sizeof line, "validating %s %s for %s (100%% plain C)", req->challenge_type, req->identifier_value, req->account_url);
    v->host->log(v->host->ctx, ACMEEH_LOG_INFO, line);

    if (req->token && strcmp(req->token, "unavailable") == 0) {
        fill_error(err, ACMEEH_E_UNAVAILABLE, 1, "", "resolver unreachable");
        return ACMEEH_STATUS_ERROR;
    }
    if (req->token && strcmp(req->token, "remaining") == 0) {
        char detail[64];
        snprintf(detail, sizeof detail, "remaining_ms=%lld", (long long)(req->deadline_ms - now_ms()));
        fill_error(err, ACMEEH_E_INTERNAL, 0, "", detail);
        return ACMEEH_STATUS_ERROR;
    }
    if (req->token && strcmp(req->token, "bogus-status") == 0) return 42;

    char expected[512];
    snprintf(expected, sizeof expected, "%s.%s", req->token ? req->token : "", v->thumbprint);
    if (req->key_authorization && strcmp(req->key_authorization, expected) == 0) return ACMEEH_STATUS_OK;

    char detail[512];
    snprintf(detail, sizeof detail, "key authorization for %s does not match", req->identifier_value);
    fill_error(err, ACMEEH_E_REJECTED, 0, "urn:ietf:params:acme:error:incorrectResponse", detail);
    return ACMEEH_STATUS_ERROR;
}

static const acmeeh_challenge_type_info types[] = {
    { "http-01", ACMEEH_IDENTIFIER_DNS | ACMEEH_IDENTIFIER_IP, 1 },
};

static const acmeeh_plugin_descriptor descriptor = {
    .struct_size = sizeof(acmeeh_plugin_descriptor),
    .abi_version = ACMEEH_ABI_VERSION,
    .kind = ACMEEH_KIND_CHALLENGE,
    .name = "ThumbprintC",
    .version = "0.1.0",
    .description = "test validator in plain C",
    .create = create,
    .destroy = destroy,
    .buffer_free = free,
    .challenge_types = types,
    .challenge_type_count = 1,
    .challenge_validate = validate,
};

const acmeeh_plugin_descriptor *acmeeh_plugin_register(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &descriptor;
}
