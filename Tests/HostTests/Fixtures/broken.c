/*
 * Plugins that the host must refuse, one per -D flag (PluginLoaderTests compiles each):
 *   BROKEN_ABI_MAJOR      descriptor claims ABI 2.0
 *   BROKEN_NO_SYMBOL      exports no acmeeh_plugin_register
 *   BROKEN_TOO_SMALL      a 48-byte descriptor (fields up to create only)
 *   BROKEN_NULL           acmeeh_plugin_register returns NULL
 *   BROKEN_MISSING_SIGN   a CA without ca_sign
 *   BROKEN_CREATE_FAILS   a CA whose create() fails with its own message
 */
#include <acmeeh_plugin.h>
#include <stdio.h>

#define UNUSED __attribute__((unused))

UNUSED static int32_t create_ok(const acmeeh_create_params *params, void **instance, acmeeh_error *err) {
    (void)params; (void)err;
    *instance = NULL;
    return ACMEEH_STATUS_OK;
}

UNUSED static int32_t create_fails(const acmeeh_create_params *params, void **instance, acmeeh_error *err) {
    (void)instance;
    err->code = ACMEEH_E_CONFIG;
    snprintf(err->detail, sizeof err->detail, "%s.key_file: cannot read /nonexistent/ca.key", params->config_path);
    return ACMEEH_STATUS_ERROR;
}

UNUSED static void destroy(void *instance) { (void)instance; }
UNUSED static void buffer_free(void *buffer) { (void)buffer; }
UNUSED static int32_t sign(void *i, const acmeeh_ca_sign_request *r, acmeeh_ca_sign_result *s, acmeeh_error *e) {
    (void)i; (void)r; (void)s; (void)e;
    return ACMEEH_STATUS_ERROR;
}
UNUSED static int32_t revoke(void *i, const acmeeh_ca_revoke_request *r, acmeeh_error *e) {
    (void)i; (void)r; (void)e;
    return ACMEEH_STATUS_OK;
}

#if defined(BROKEN_TOO_SMALL)
/* What a plugin built against an older, shorter descriptor would export: 48 bytes. */
typedef struct {
    uint32_t struct_size;
    uint32_t abi_version;
    int32_t kind;
    const char *name;
    const char *version;
    const char *description;
    int32_t (*create)(const acmeeh_create_params *, void **, acmeeh_error *);
} short_descriptor;
_Static_assert(sizeof(short_descriptor) == 48, "short descriptor is 48 bytes");
static const short_descriptor descriptor = {
    sizeof(short_descriptor), ACMEEH_ABI_VERSION, ACMEEH_KIND_CA, "Short", "0", "too small", create_ok,
};
#else
UNUSED static const acmeeh_plugin_descriptor descriptor = {
    .struct_size = sizeof(acmeeh_plugin_descriptor),
#if defined(BROKEN_ABI_MAJOR)
    .abi_version = 0x00020000u,
#else
    .abi_version = ACMEEH_ABI_VERSION,
#endif
    .kind = ACMEEH_KIND_CA,
    .name = "Broken",
    .version = "0",
    .description = "refused by the host",
#if defined(BROKEN_CREATE_FAILS)
    .create = create_fails,
#else
    .create = create_ok,
#endif
    .destroy = destroy,
    .buffer_free = buffer_free,
#if !defined(BROKEN_MISSING_SIGN)
    .ca_sign = sign,
#endif
    .ca_revoke = revoke,
};
#endif

#if defined(BROKEN_NO_SYMBOL)
const void *acmeeh_plugin_register_v0(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &descriptor;
}
#else
const acmeeh_plugin_descriptor *acmeeh_plugin_register(uint32_t host_abi_version) {
    (void)host_abi_version;
#if defined(BROKEN_NULL)
    return NULL;
#else
    return (const acmeeh_plugin_descriptor *)(const void *)&descriptor;
#endif
}
#endif
