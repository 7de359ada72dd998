/*
 * A notifier in plain C, used by PluginLoaderTests to check what crosses in deliver() and
 * that each instance is destroyed exactly once (close or deinit).
 *   event "echo"  -> ERROR whose detail spells out every field received
 *   event "stats" -> ERROR whose detail is "live=<instances> destroyed=<destroy calls>"
 *   anything else -> OK
 */
#include <acmeeh_plugin.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long live;
static atomic_long destroyed;

typedef struct { const acmeeh_host_api *host; } notifier;

static int32_t create(const acmeeh_create_params *params, void **instance, acmeeh_error *err) {
    notifier *n = calloc(1, sizeof *n);
    if (!n) { err->code = ACMEEH_E_INTERNAL; return ACMEEH_STATUS_ERROR; }
    n->host = params->host;
    atomic_fetch_add(&live, 1);
    *instance = n;
    return ACMEEH_STATUS_OK;
}

static void destroy(void *instance) {
    atomic_fetch_sub(&live, 1);
    atomic_fetch_add(&destroyed, 1);
    free(instance);
}

static int32_t deliver(void *instance, const acmeeh_notification *m, acmeeh_error *err) {
    notifier *n = instance;
    n->host->log(n->host->ctx, ACMEEH_LOG_DEBUG, m->event);
    if (strcmp(m->event, "echo") == 0) {
        char to[256] = "";
        for (size_t i = 0; i < m->recipient_count; i++) {
            if (i) strncat(to, ",", sizeof to - strlen(to) - 1);
            strncat(to, m->recipients[i], sizeof to - strlen(to) - 1);
        }
        err->code = ACMEEH_E_UNSUPPORTED;
        snprintf(err->detail, sizeof err->detail, "event=%s to=%s subject=%s body=%s payload=%s",
                 m->event, to, m->subject, m->body, m->payload_json);
        return ACMEEH_STATUS_ERROR;
    }
    if (strcmp(m->event, "stats") == 0) {
        err->code = ACMEEH_E_UNSUPPORTED;
        snprintf(err->detail, sizeof err->detail, "live=%ld destroyed=%ld",
                 (long)atomic_load(&live), (long)atomic_load(&destroyed));
        return ACMEEH_STATUS_ERROR;
    }
    return ACMEEH_STATUS_OK;
}

static const acmeeh_plugin_descriptor descriptor = {
    .struct_size = sizeof(acmeeh_plugin_descriptor),
    .abi_version = ACMEEH_ABI_VERSION,
    .kind = ACMEEH_KIND_NOTIFIER,
    .name = "NotifierC",
    .version = "1.0.0",
    .description = "test notifier in plain C",
    .create = create,
    .destroy = destroy,
    .notifier_deliver = deliver,
};

const acmeeh_plugin_descriptor *acmeeh_plugin_register(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &descriptor;
}
