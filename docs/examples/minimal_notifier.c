/*
 * minimal_notifier.c: a complete acmeeh notifier plugin in plain C.
 *
 * It appends every notification to the file named by its configuration, as one
 * block of "key: value" lines followed by a blank line:
 *
 *     {"file": "/var/log/acmeeh/notifications.log"}
 *
 * Build:
 *
 *     cc -shared -fPIC -std=c11 -fvisibility=hidden -I Sources/PluginAPI/include \
 *        -Wl,--version-script=Plugins/exports.map -Wl,-Bsymbolic \
 *        -o libMinimalNotifier.so docs/examples/minimal_notifier.c
 *     acmeeh plugins check ./libMinimalNotifier.so --config '{"file": "/tmp/n.log"}'
 *
 * Deliberately small: the file is opened for each delivery (so it may be rotated
 * under it), and one mutex keeps concurrent deliveries from interleaving.
 */
#define _POSIX_C_SOURCE 200809L
#include <acmeeh_plugin.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One instance: the file's path and the lock around appending to it. */
typedef struct {
    char *path;
    pthread_mutex_t lock;
} minimal_notifier;

static int32_t fail(acmeeh_error *err, int32_t code, int32_t retryable, const char *fmt, ...) {
    /* The v1.0 size, not sizeof: a host built against another minor is fine. */
    if (err && err->struct_size >= ACMEEH_ERROR_V1_SIZE) {
        va_list args;
        va_start(args, fmt);
        err->code = code;
        err->retryable = retryable;
        err->problem_type[0] = 0;
        vsnprintf(err->detail, sizeof err->detail, fmt, args);
        va_end(args);
    }
    return ACMEEH_STATUS_ERROR;
}

/* The string value of "key" in a flat JSON object (enough for a path; \" and \\ unescaped). */
static char *json_string(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *p = strstr(json, pattern);
    if (!p) return NULL;
    p += strlen(pattern);
    while (isspace((unsigned char)*p)) p++;
    if (*p++ != ':') return NULL;
    while (isspace((unsigned char)*p)) p++;
    if (*p++ != '"') return NULL;
    char *out = malloc(strlen(p) + 1), *o = out;
    if (!out) return NULL;
    for (; *p && *p != '"'; p++) *o++ = (*p == '\\' && p[1]) ? *++p : *p;
    *o = 0;
    return out;
}

static int32_t create(const acmeeh_create_params *params, void **instance, acmeeh_error *err) {
    *instance = NULL;
    if (!params || params->struct_size < ACMEEH_CREATE_PARAMS_V1_SIZE)
        return fail(err, ACMEEH_E_INTERNAL, 0, "create params are too small");
    const char *where = params->config_path ? params->config_path : "config";
    char *path = json_string(params->config_json, "file");
    if (!path || !*path) {
        free(path);
        return fail(err, ACMEEH_E_CONFIG, 0, "%s.file is required", where);
    }
    minimal_notifier *n = calloc(1, sizeof *n);
    if (!n) {
        free(path);
        return fail(err, ACMEEH_E_INTERNAL, 0, "out of memory");
    }
    n->path = path;
    pthread_mutex_init(&n->lock, NULL);
    *instance = n;
    return ACMEEH_STATUS_OK;
}

static void destroy(void *instance) {
    minimal_notifier *n = instance;
    if (!n) return;
    pthread_mutex_destroy(&n->lock);
    free(n->path);
    free(n);
}

/* This plugin hands out no buffers; free() is what it would use if it did. */
static void buffer_free(void *buffer) { free(buffer); }

/* Writes one field; a value's line breaks are indented so a block stays one block. */
static void field(FILE *f, const char *key, const char *value) {
    fprintf(f, "%s: ", key);
    for (const char *p = value ? value : ""; *p; p++) {
        fputc(*p, f);
        if (*p == '\n' && p[1]) fputs("  ", f);
    }
    fputc('\n', f);
}

static int32_t deliver(void *instance, const acmeeh_notification *notification, acmeeh_error *err) {
    minimal_notifier *n = instance;
    if (!notification || notification->struct_size < ACMEEH_NOTIFICATION_V1_SIZE)
        return fail(err, ACMEEH_E_INTERNAL, 0, "the notification is too small");
    /* body_html is a 1.1 field: read it only when the host's struct reaches it. */
    const char *html = notification->struct_size >= ACMEEH_NOTIFICATION_V1_1_SIZE ? notification->body_html : NULL;

    pthread_mutex_lock(&n->lock);
    FILE *f = fopen(n->path, "a");
    if (!f) {
        int e = errno;
        pthread_mutex_unlock(&n->lock);
        /* A missing directory or a full disk may be fixed: the host may try again. */
        return fail(err, ACMEEH_E_UNAVAILABLE, 1, "cannot open %s: %s", n->path, strerror(e));
    }
    field(f, "event", notification->event);
    for (size_t i = 0; i < notification->recipient_count; i++) field(f, "to", notification->recipients[i]);
    field(f, "subject", notification->subject);
    field(f, "body", notification->body);
    if (html) field(f, "html", html);
    field(f, "payload", notification->payload_json);
    fputc('\n', f);
    int failed = ferror(f);
    failed |= fclose(f) != 0;
    pthread_mutex_unlock(&n->lock);
    if (failed) return fail(err, ACMEEH_E_UNAVAILABLE, 1, "cannot write %s", n->path);
    return ACMEEH_STATUS_OK;
}

static const acmeeh_plugin_descriptor descriptor = {
    .struct_size = sizeof(acmeeh_plugin_descriptor),
    .abi_version = ACMEEH_ABI_VERSION,
    .kind = ACMEEH_KIND_NOTIFIER,
    .name = "MinimalNotifier",
    .version = "1.0.0",
    .description = "Appends each notification to a file (docs/examples/minimal_notifier.c)",
    .create = create,
    .destroy = destroy,
    .buffer_free = buffer_free,
    .notifier_deliver = deliver,
};

ACMEEH_PLUGIN_EXPORT const acmeeh_plugin_descriptor *acmeeh_plugin_register(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &descriptor;
}
