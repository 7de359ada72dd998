/* scripts/bench-ca-sign.c: the driver of scripts/bench-ca-sign. Loads a CA plugin, creates one instance
   and calls ca_sign N times with the same request, as the host would (minus its thread pool):
     bench-ca-sign LIB CONFIG_JSON CSR_DER PROFILE_JSON SERIAL_HEX|- NOT_BEFORE NOT_AFTER [N]
   Prints the last PEM chain on stdout and, with N > 1, the mean wall time of one ca_sign on stderr. */
#define _POSIX_C_SOURCE 200809L
#include <acmeeh_plugin.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static void hostlog(void *ctx, int32_t level, const char *m) { (void)ctx; if (level >= ACMEEH_LOG_WARNING) fprintf(stderr, "log %d: %s\n", level, m); }
static int64_t mono_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000; }
int main(int argc, char **argv) {
    if (argc < 8) { fprintf(stderr, "usage\n"); return 2; }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    acmeeh_plugin_register_fn reg = (acmeeh_plugin_register_fn)dlsym(lib, ACMEEH_PLUGIN_ENTRY_SYMBOL);
    const acmeeh_plugin_descriptor *d = reg(ACMEEH_ABI_VERSION);
    acmeeh_host_api host = { sizeof host, ACMEEH_ABI_VERSION, NULL, hostlog };
    acmeeh_create_params params = { sizeof params, &host, argv[2], "ca.internal", NULL, mono_ms() + 10000 };
    acmeeh_error err; memset(&err, 0, sizeof err); err.struct_size = sizeof err;
    void *instance = NULL;
    if (d->create(&params, &instance, &err) != ACMEEH_STATUS_OK) { fprintf(stderr, "create: %s\n", err.detail); return 1; }
    FILE *f = fopen(argv[3], "rb");
    if (!f) { perror(argv[3]); return 1; }
    static uint8_t csr[65536];
    size_t csr_len = fread(csr, 1, sizeof csr, f);
    fclose(f);
    long n = argc > 8 ? atol(argv[8]) : 1;
    acmeeh_ca_sign_request req = { sizeof req, csr, csr_len, "golden", argv[4], atoll(argv[6]), atoll(argv[7]), 0,
                                   strcmp(argv[5], "-") ? argv[5] : NULL, 0 };
    acmeeh_ca_sign_result res;
    struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        memset(&res, 0, sizeof res); res.struct_size = sizeof res;
        req.deadline_ms = mono_ms() + 10000;
        if (d->ca_sign(instance, &req, &res, &err) != ACMEEH_STATUS_OK) { fprintf(stderr, "sign: %s\n", err.detail); return 1; }
        if (i + 1 < n) { d->buffer_free(res.pem_chain); d->buffer_free(res.serial_hex); }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (n > 1) fprintf(stderr, "%ld signs, %.1f us each\n", n, ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n);
    fwrite(res.pem_chain, 1, res.pem_chain_len, stdout);
    d->buffer_free(res.pem_chain); d->buffer_free(res.serial_hex);
    d->destroy(instance);
    return 0;
}
