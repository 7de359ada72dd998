/*
 * A CA plugin in plain C whose outputs are malloc'd buffers, used by PluginLoaderTests to
 * check that the host releases each one with buffer_free exactly once: every allocation
 * increments `outstanding`, buffer_free decrements it, and self_check fails unless it is 0.
 *
 * sign() answers by profile:
 *   "default"     -> OK: a fake PEM chain, serial "0a1b", not_before/not_after set
 *   "pending"     -> PENDING, handle "job-7", retry after 3 s (ca_poll then issues)
 *   "same-buffer" -> OK whose serial_hex and pending_handle are the same pointer
 *   "ok-empty"    -> OK without outputs (a contract violation)
 *   "bogus"       -> returns 42
 *   "reject"      -> ERROR badCSR, final
 */
#include <acmeeh_plugin.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long outstanding;
static atomic_long frees;

static char *dup_counted(const char *s) {
    char *copy = strdup(s);
    if (copy) atomic_fetch_add(&outstanding, 1);
    return copy;
}

static void counted_free(void *p) {
    if (!p) return;
    atomic_fetch_sub(&outstanding, 1);
    atomic_fetch_add(&frees, 1);
    free(p);
}

static int32_t create(const acmeeh_create_params *params, void **instance, acmeeh_error *err) {
    (void)err;
    params->host->log(params->host->ctx, ACMEEH_LOG_INFO, "counting CA ready");
    *instance = (void *)params->host; /* no state of its own */
    return ACMEEH_STATUS_OK;
}

static void destroy(void *instance) { (void)instance; }

static int32_t issue(acmeeh_ca_sign_result *result, size_t csr_len) {
    char pem[256];
    snprintf(pem, sizeof pem, "-----BEGIN CERTIFICATE-----\ncsr %zu bytes\n-----END CERTIFICATE-----\n", csr_len);
    result->pem_chain = dup_counted(pem);
    result->pem_chain_len = strlen(pem);
    result->serial_hex = dup_counted("0a1b");
    result->not_before = 1700000000;
    result->not_after = 1700000000 + 90 * 86400;
    return ACMEEH_STATUS_OK;
}

static int32_t sign(void *instance, const acmeeh_ca_sign_request *req, acmeeh_ca_sign_result *result, acmeeh_error *err) {
    (void)instance;
    if (strcmp(req->profile, "pending") == 0) {
        result->pending_handle = dup_counted("job-7");
        result->retry_after_seconds = 3;
        return ACMEEH_STATUS_PENDING;
    }
    if (strcmp(req->profile, "same-buffer") == 0) {
        issue(result, req->csr_der_len);
        result->pending_handle = result->serial_hex;
        return ACMEEH_STATUS_OK;
    }
    if (strcmp(req->profile, "ok-empty") == 0) return ACMEEH_STATUS_OK;
    if (strcmp(req->profile, "bogus") == 0) return 42;
    if (strcmp(req->profile, "reject") == 0) {
        err->code = ACMEEH_E_REJECTED;
        err->retryable = 0;
        snprintf(err->problem_type, sizeof err->problem_type, "urn:ietf:params:acme:error:badCSR");
        snprintf(err->detail, sizeof err->detail, "key too small");
        return ACMEEH_STATUS_ERROR;
    }
    return issue(result, req->csr_der_len);
}

static int32_t poll(void *instance, const char *handle, int64_t deadline_ms, acmeeh_ca_sign_result *result, acmeeh_error *err) {
    (void)instance; (void)deadline_ms;
    if (strcmp(handle, "job-7") != 0) {
        err->code = ACMEEH_E_INVALID_INPUT;
        snprintf(err->detail, sizeof err->detail, "unknown handle %s", handle);
        return ACMEEH_STATUS_ERROR;
    }
    return issue(result, 0);
}

static int32_t revoke(void *instance, const acmeeh_ca_revoke_request *req, acmeeh_error *err) {
    (void)instance; (void)req; (void)err;
    return ACMEEH_STATUS_OK;
}

static int32_t self_check(void *instance, int64_t deadline_ms, acmeeh_error *err) {
    (void)instance; (void)deadline_ms;
    long n = atomic_load(&outstanding);
    if (n == 0) return ACMEEH_STATUS_OK;
    err->code = ACMEEH_E_INTERNAL;
    snprintf(err->detail, sizeof err->detail, "outstanding=%ld frees=%ld", n, (long)atomic_load(&frees));
    return ACMEEH_STATUS_ERROR;
}

/*
 * The descriptor, followed in memory by non-NULL garbage. Built against the 1.0 header
 * (Fixtures/abi-1.0, libCountingCA10.so) the garbage sits where 1.1 appended ca_sign_crl:
 * a host that reads past struct_size would see a bogus ca_sign_crl there.
 */
static const struct {
    acmeeh_plugin_descriptor descriptor;
    const void *beyond[4];
} image = {
    .beyond = {(const void *)1, (const void *)1, (const void *)1, (const void *)1},
    .descriptor = {
    .struct_size = sizeof(acmeeh_plugin_descriptor),
    .abi_version = ACMEEH_ABI_VERSION,
    .kind = ACMEEH_KIND_CA,
    .name = "CountingCA",
    .version = "2.3.4",
    .description = "test CA in plain C",
    .create = create,
    .destroy = destroy,
    .buffer_free = counted_free,
    .self_check = self_check,
    .ca_sign = sign,
    .ca_poll = poll,
    .ca_revoke = revoke,
    },
};

const acmeeh_plugin_descriptor *acmeeh_plugin_register(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &image.descriptor;
}
