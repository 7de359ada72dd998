/*
 * approval_ca.c: a CA plugin in plain C that defers every signing, as an enterprise CA
 * waiting for an approval does. sign() keeps the request and answers PENDING with a
 * handle ("approval-N", ask again after 1 s); ca_poll() then signs it for real with the
 * OpenSSL code of docs/examples/minimal_ca.c (issuer_cert/issuer_key). Every call is
 * appended to `call_log` ("sign approval-1", "poll approval-1", "revoke <serial>"), so a
 * test can see which backend the host asked.
 *
 *     ca:
 *       failover: ["ext:/path/libApprovalCA.so"]
 *       issuer_cert: root.pem
 *       issuer_key: root-key.pem
 *       call_log: calls.log
 */
#define acmeeh_plugin_register minimal_ca_register
#include "../../../docs/examples/minimal_ca.c"
#undef acmeeh_plugin_register

#include <pthread.h>

#define MAX_PENDING 64

/* A deferred request: a copy of what sign() was given. */
typedef struct {
    char handle[32];
    uint8_t *csr;
    size_t csr_len;
    int64_t not_before, not_after;
    uint32_t validity_days;
    char *serial_hex;
} deferred;

typedef struct {
    minimal_ca *ca;
    char *call_log;
    pthread_mutex_t lock;
    int next;
    deferred pending[MAX_PENDING];
} approval_ca;

static void record(approval_ca *a, const char *what, const char *detail) {
    if (!a->call_log) return;
    pthread_mutex_lock(&a->lock);
    FILE *f = fopen(a->call_log, "a");
    if (f) {
        fprintf(f, "%s %s\n", what, detail);
        fclose(f);
    }
    pthread_mutex_unlock(&a->lock);
}

static void approval_destroy(void *instance) {
    approval_ca *a = instance;
    if (!a) return;
    for (int i = 0; i < MAX_PENDING; i++) {
        free(a->pending[i].csr);
        free(a->pending[i].serial_hex);
    }
    destroy(a->ca);
    free(a->call_log);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static int32_t approval_create(const acmeeh_create_params *params, void **instance, acmeeh_error *err) {
    approval_ca *a = calloc(1, sizeof *a);
    if (!a) return fail(err, ACMEEH_E_INTERNAL, NULL, "out of memory");
    pthread_mutex_init(&a->lock, NULL);
    void *ca = NULL;
    int32_t status = create(params, &ca, err);
    if (status != ACMEEH_STATUS_OK) {
        approval_destroy(a);
        return status;
    }
    a->ca = ca;
    a->call_log = json_string(params->config_json, "call_log");
    *instance = a;
    return ACMEEH_STATUS_OK;
}

static int32_t approval_sign(void *instance, const acmeeh_ca_sign_request *request,
                             acmeeh_ca_sign_result *result, acmeeh_error *err) {
    approval_ca *a = instance;
    pthread_mutex_lock(&a->lock);
    int slot = a->next++ % MAX_PENDING;
    deferred *d = &a->pending[slot];
    free(d->csr);
    free(d->serial_hex);
    memset(d, 0, sizeof *d);
    snprintf(d->handle, sizeof d->handle, "approval-%d", a->next);
    d->csr = malloc(request->csr_der_len);
    if (d->csr) memcpy(d->csr, request->csr_der, request->csr_der_len);
    d->csr_len = request->csr_der_len;
    d->not_before = request->not_before;
    d->not_after = request->not_after;
    d->validity_days = request->validity_days;
    d->serial_hex = request->serial_hex ? strdup(request->serial_hex) : NULL;
    result->pending_handle = strdup(d->handle);
    pthread_mutex_unlock(&a->lock);
    if (!d->csr || !result->pending_handle) return fail(err, ACMEEH_E_INTERNAL, NULL, "out of memory");
    record(a, "sign", result->pending_handle);
    result->retry_after_seconds = 1;
    return ACMEEH_STATUS_PENDING;
}

static int32_t approval_poll(void *instance, const char *handle, int64_t deadline_ms,
                             acmeeh_ca_sign_result *result, acmeeh_error *err) {
    approval_ca *a = instance;
    record(a, "poll", handle);
    acmeeh_ca_sign_request request = {.struct_size = sizeof request, .profile = "default",
                                      .profile_json = "{}", .deadline_ms = deadline_ms};
    int32_t status = ACMEEH_STATUS_ERROR;
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < MAX_PENDING; i++) {
        deferred *d = &a->pending[i];
        if (!d->csr || strcmp(d->handle, handle) != 0) continue;
        request.csr_der = d->csr;
        request.csr_der_len = d->csr_len;
        request.not_before = d->not_before;
        request.not_after = d->not_after;
        request.validity_days = d->validity_days;
        request.serial_hex = d->serial_hex;
        status = sign(a->ca, &request, result, err); /* minimal_ca.c: real OpenSSL signing */
        break;
    }
    pthread_mutex_unlock(&a->lock);
    if (!request.csr_der) return fail(err, ACMEEH_E_INVALID_INPUT, NULL, "unknown handle %s", handle);
    return status;
}

static int32_t approval_revoke(void *instance, const acmeeh_ca_revoke_request *request, acmeeh_error *err) {
    (void)err;
    record(instance, "revoke", request->serial_hex);
    return ACMEEH_STATUS_OK;
}

static const acmeeh_plugin_descriptor approval_descriptor = {
    .struct_size = sizeof(acmeeh_plugin_descriptor),
    .abi_version = ACMEEH_ABI_VERSION,
    .kind = ACMEEH_KIND_CA,
    .name = "ApprovalCA",
    .version = "1.0.0",
    .description = "test CA in plain C that defers every signing until polled",
    .create = approval_create,
    .destroy = approval_destroy,
    .buffer_free = buffer_free,
    .ca_sign = approval_sign,
    .ca_poll = approval_poll,
    .ca_revoke = approval_revoke,
};

const acmeeh_plugin_descriptor *acmeeh_plugin_register(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &approval_descriptor;
}
