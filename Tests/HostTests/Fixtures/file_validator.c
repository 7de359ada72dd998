/*
 * A challenge validator written in plain C, used by OrderTests: it serves http-01 and
 * dns-01 and stands in for the network. The directory comes from the environment
 * variable ACMEEH_TEST_CHALLENGE_DIR (an `ext:` plugin entry has no config subtree).
 *
 * validate(): reads <dir>/<token>.
 *   missing file          -> ERROR, ACMEEH_E_UNAVAILABLE, retryable, urn:...:connection
 *   content == keyAuthz   -> OK (trailing whitespace ignored)
 *   anything else         -> ERROR, ACMEEH_E_REJECTED, final, urn:...:incorrectResponse
 * Every call appends one line "<type> <identifier> <token>" to <dir>/calls.log.
 */
#include <acmeeh_plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const acmeeh_host_api *host;
    char dir[512];
} validator;

static void fill_error(acmeeh_error *err, int32_t code, int32_t retryable, const char *type, const char *detail) {
    err->code = code;
    err->retryable = retryable;
    snprintf(err->problem_type, sizeof err->problem_type, "%s", type);
    snprintf(err->detail, sizeof err->detail, "%s", detail);
}

static int32_t create(const acmeeh_create_params *params, void **instance, acmeeh_error *err) {
    const char *dir = getenv("ACMEEH_TEST_CHALLENGE_DIR");
    if (!dir || !*dir || strlen(dir) >= 512) {
        fill_error(err, ACMEEH_E_CONFIG, 0, "", "ACMEEH_TEST_CHALLENGE_DIR is not set");
        return ACMEEH_STATUS_ERROR;
    }
    validator *v = calloc(1, sizeof *v);
    if (!v) { fill_error(err, ACMEEH_E_INTERNAL, 0, "", "out of memory"); return ACMEEH_STATUS_ERROR; }
    v->host = params->host;
    snprintf(v->dir, sizeof v->dir, "%s", dir);
    *instance = v;
    return ACMEEH_STATUS_OK;
}

static void destroy(void *instance) { free(instance); }

static int32_t validate(void *instance, const acmeeh_challenge_request *req, acmeeh_error *err) {
    validator *v = instance;
    char path[1024];
    snprintf(path, sizeof path, "%s/calls.log", v->dir);
    FILE *log = fopen(path, "a");
    if (log) {
        fprintf(log, "%s %s %s\n", req->challenge_type, req->identifier_value, req->token ? req->token : "-");
        fclose(log);
    }
    snprintf(path, sizeof path, "%s/%s", v->dir, req->token ? req->token : "none");
    FILE *file = fopen(path, "r");
    if (!file) {
        char detail[600];
        snprintf(detail, sizeof detail, "no response for %s yet", req->identifier_value);
        fill_error(err, ACMEEH_E_UNAVAILABLE, 1, "urn:ietf:params:acme:error:connection", detail);
        return ACMEEH_STATUS_ERROR;
    }
    char body[1024] = {0};
    size_t n = fread(body, 1, sizeof body - 1, file);
    fclose(file);
    while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == ' ' || body[n - 1] == '\r')) body[--n] = 0;
    if (req->key_authorization && strcmp(body, req->key_authorization) == 0) return ACMEEH_STATUS_OK;
    char detail[600];
    snprintf(detail, sizeof detail, "key authorization for %s does not match", req->identifier_value);
    fill_error(err, ACMEEH_E_REJECTED, 0, "urn:ietf:params:acme:error:incorrectResponse", detail);
    return ACMEEH_STATUS_ERROR;
}

/* An `ext:` entry serves the first declared type, so the tests build this file twice:
 * http-01 first by default, dns-01 first with -DDNS_FIRST. */
static const acmeeh_challenge_type_info types[] = {
#ifdef DNS_FIRST
    { "dns-01", ACMEEH_IDENTIFIER_DNS, 1 },
    { "http-01", ACMEEH_IDENTIFIER_DNS | ACMEEH_IDENTIFIER_IP, 1 },
#else
    { "http-01", ACMEEH_IDENTIFIER_DNS | ACMEEH_IDENTIFIER_IP, 1 },
    { "dns-01", ACMEEH_IDENTIFIER_DNS, 1 },
#endif
};

static const acmeeh_plugin_descriptor descriptor = {
    .struct_size = sizeof(acmeeh_plugin_descriptor),
    .abi_version = ACMEEH_ABI_VERSION,
    .kind = ACMEEH_KIND_CHALLENGE,
    .name = "FileValidatorC",
    .version = "0.1.0",
    .description = "test validator in plain C reading key authorizations from files",
    .create = create,
    .destroy = destroy,
    .buffer_free = free,
    .challenge_types = types,
    .challenge_type_count = 2,
    .challenge_validate = validate,
};

const acmeeh_plugin_descriptor *acmeeh_plugin_register(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &descriptor;
}
