/*
 * minimal_ca.c: a complete acmeeh CA plugin in plain C with OpenSSL 3.
 *
 * It signs every CSR with an issuer certificate and key read from its
 * configuration (the `ca` keys acmeeh does not know itself, for `ext:` backends):
 *
 *     ca:
 *       backend: ext:MinimalCA          # <plugin dir>/libMinimalCA.so
 *       issuer_cert: /etc/acmeeh/ca.pem
 *       issuer_key: /etc/acmeeh/ca-key.pem
 *
 * Build and check:
 *
 *     cc -shared -fPIC -std=c11 -I Sources/PluginAPI/include \
 *        -Wl,--version-script=Plugins/exports.map -Wl,-Bsymbolic \
 *        -o libMinimalCA.so docs/examples/minimal_ca.c -lcrypto
 *     acmeeh plugins check ./libMinimalCA.so \
 *        --config '{"issuer_cert": "ca.pem", "issuer_key": "ca-key.pem"}'
 *
 * Deliberately small: no profiles, revocation is recorded by the host only. It
 * signs CRLs (ABI 1.1 ca_sign_crl) from the entries the host hands in, and RFC 6962
 * precertificates and certificates with embedded SCTs (ABI 1.1 ca_features).
 */
#define _POSIX_C_SOURCE 200809L
#include <acmeeh_plugin.h>
#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One instance: the issuer, read once in create, then only read (thread-safe). */
typedef struct {
    X509 *issuer;
    EVP_PKEY *key;
    char *issuer_pem;
} minimal_ca;

static int32_t fail(acmeeh_error *err, int32_t code, const char *problem, const char *fmt, ...) {
    /* The v1.0 size, not sizeof: a host built against another minor is fine. */
    if (err && err->struct_size >= ACMEEH_ERROR_V1_SIZE) {
        va_list args;
        va_start(args, fmt);
        err->code = code;
        err->retryable = 0;
        snprintf(err->problem_type, sizeof err->problem_type, "%s", problem ? problem : "");
        vsnprintf(err->detail, sizeof err->detail, fmt, args);
        va_end(args);
    }
    return ACMEEH_STATUS_ERROR;
}

/* The string value of "key" in a flat JSON object (enough for paths; \" and \\ unescaped). */
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

static char *pem_of(X509 *cert) {
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *copy = NULL;
    if (bio && PEM_write_bio_X509(bio, cert)) {
        long len = BIO_get_mem_data(bio, &data);
        if ((copy = malloc((size_t)len + 1))) { memcpy(copy, data, (size_t)len); copy[len] = 0; }
    }
    BIO_free(bio);
    return copy;
}

static void destroy(void *instance) {
    minimal_ca *ca = instance;
    if (!ca) return;
    X509_free(ca->issuer);
    EVP_PKEY_free(ca->key);
    free(ca->issuer_pem);
    free(ca);
}

static int32_t create(const acmeeh_create_params *params, void **instance, acmeeh_error *err) {
    *instance = NULL;
    const char *where = params->config_path ? params->config_path : "ca";
    char *cert_path = json_string(params->config_json, "issuer_cert");
    char *key_path = json_string(params->config_json, "issuer_key");
    minimal_ca *ca = calloc(1, sizeof *ca);
    int32_t status = ACMEEH_STATUS_ERROR;
    FILE *f;
    if (!ca) { fail(err, ACMEEH_E_INTERNAL, NULL, "out of memory"); goto done; }
    if (!cert_path || !key_path) {
        fail(err, ACMEEH_E_CONFIG, NULL, "%s.%s is required", where, cert_path ? "issuer_key" : "issuer_cert");
        goto done;
    }
    if (!(f = fopen(cert_path, "r"))) { fail(err, ACMEEH_E_CONFIG, NULL, "%s.issuer_cert: cannot read %s", where, cert_path); goto done; }
    ca->issuer = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!(f = fopen(key_path, "r"))) { fail(err, ACMEEH_E_CONFIG, NULL, "%s.issuer_key: cannot read %s", where, key_path); goto done; }
    ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!ca->issuer || !ca->key || X509_check_private_key(ca->issuer, ca->key) != 1) {
        fail(err, ACMEEH_E_CONFIG, NULL, "%s: %s and %s are not a PEM certificate and its key", where, cert_path, key_path);
        goto done;
    }
    ca->issuer_pem = pem_of(ca->issuer);
    *instance = ca;
    ca = NULL;
    status = ACMEEH_STATUS_OK;
done:
    destroy(ca);
    free(cert_path);
    free(key_path);
    ERR_clear_error();
    return status;
}

static void buffer_free(void *buffer) { free(buffer); }

/* Appends an extension whose extnValue is exactly `value`. */
static int add_extension(X509 *leaf, int nid, int critical, const unsigned char *value, int len) {
    ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    int ok = data && ASN1_OCTET_STRING_set(data, value, len)
        && (ext = X509_EXTENSION_create_by_NID(NULL, nid, critical, data)) && X509_add_ext(leaf, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(data);
    return ok;
}

/* ABI 1.1, RFC 6962 §3.1: a precertificate's critical poison (ASN.1 NULL), or the
   certificate's SCT list (an OCTET STRING of the host's bytes), as the last extension. */
static int add_transparency(X509 *leaf, const acmeeh_ca_sign_request *request) {
    if (request->struct_size < ACMEEH_CA_SIGN_REQUEST_V1_1_SIZE) return 1;
    if (request->precertificate) {
        static const unsigned char null[] = {0x05, 0x00};
        return add_extension(leaf, NID_ct_precert_poison, 1, null, sizeof null);
    }
    if (!request->sct_list) return 1;
    ASN1_OCTET_STRING *list = ASN1_OCTET_STRING_new();
    unsigned char *der = NULL;
    int len = list && ASN1_OCTET_STRING_set(list, request->sct_list, (int)request->sct_list_len)
        ? i2d_ASN1_OCTET_STRING(list, &der) : 0;
    int ok = len > 0 && add_extension(leaf, NID_ct_precert_scts, 0, der, len);
    OPENSSL_free(der);
    ASN1_OCTET_STRING_free(list);
    return ok;
}

/* Leaf = the CSR's subject, key and subjectAltName, signed by the issuer. */
static int32_t sign(void *instance, const acmeeh_ca_sign_request *request,
                    acmeeh_ca_sign_result *result, acmeeh_error *err) {
    minimal_ca *ca = instance;
    const unsigned char *der = request->csr_der;
    X509_REQ *csr = d2i_X509_REQ(NULL, &der, (long)request->csr_der_len);
    X509 *leaf = X509_new();
    EVP_PKEY *pub = csr ? X509_REQ_get0_pubkey(csr) : NULL;
    STACK_OF(X509_EXTENSION) *exts = csr ? X509_REQ_get_extensions(csr) : NULL;
    BIGNUM *serial = NULL;
    char *leaf_pem = NULL, *hex = NULL;
    int32_t status = ACMEEH_STATUS_ERROR;

    if (!csr || !pub || X509_REQ_verify(csr, pub) != 1) {
        fail(err, ACMEEH_E_INVALID_INPUT, "urn:ietf:params:acme:error:badCSR", "the CSR does not parse or verify");
        goto done;
    }
    if (request->serial_hex) {
        BN_hex2bn(&serial, request->serial_hex);
    } else {
        unsigned char random[16];
        RAND_bytes(random, sizeof random);
        random[0] &= 0x7f;
        random[0] |= 0x01; /* positive, no leading zero byte */
        serial = BN_bin2bn(random, sizeof random, NULL);
    }
    int64_t not_before = request->not_before ? request->not_before : (int64_t)time(NULL);
    int64_t not_after = request->not_after ? request->not_after
                                           : not_before + (int64_t)request->validity_days * 86400;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca->issuer, leaf, NULL, NULL, 0);
    X509_EXTENSION *ext;
    int ok = serial && X509_set_version(leaf, X509_VERSION_3)
        && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(leaf))
        && X509_set_issuer_name(leaf, X509_get_subject_name(ca->issuer))
        && X509_set_subject_name(leaf, X509_REQ_get_subject_name(csr))
        && X509_set_pubkey(leaf, pub)
        && ASN1_TIME_set(X509_getm_notBefore(leaf), (time_t)not_before)
        && ASN1_TIME_set(X509_getm_notAfter(leaf), (time_t)not_after);
    for (int i = 0; ok && i < sk_X509_EXTENSION_num(exts); i++) {
        ext = sk_X509_EXTENSION_value(exts, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name) ok = X509_add_ext(leaf, ext, -1);
    }
    const char *const added[][2] = {{"basicConstraints", "critical,CA:FALSE"},
                                    {"keyUsage", "critical,digitalSignature"},
                                    {"extendedKeyUsage", "serverAuth"},
                                    {"authorityKeyIdentifier", "keyid:always"}};
    for (size_t i = 0; ok && i < sizeof added / sizeof added[0]; i++) {
        ok = (ext = X509V3_EXT_conf(NULL, &ctx, added[i][0], added[i][1])) && X509_add_ext(leaf, ext, -1);
        X509_EXTENSION_free(ext);
    }
    ok = ok && add_transparency(leaf, request);
    int ed = EVP_PKEY_get_id(ca->key) == EVP_PKEY_ED25519; /* EdDSA signs without a digest */
    if (!ok || !X509_sign(leaf, ca->key, ed ? NULL : EVP_sha256())) {
        fail(err, ACMEEH_E_INTERNAL, NULL, "signing failed: %s", ERR_error_string(ERR_get_error(), NULL));
        goto done;
    }
    leaf_pem = pem_of(leaf);
    hex = BN_bn2hex(serial);
    size_t len = leaf_pem && ca->issuer_pem ? strlen(leaf_pem) + strlen(ca->issuer_pem) : 0;
    if (!len || !hex || !(result->pem_chain = malloc(len + 1)) || !(result->serial_hex = strdup(hex))) {
        free(result->pem_chain);
        result->pem_chain = NULL;
        fail(err, ACMEEH_E_INTERNAL, NULL, "out of memory");
        goto done;
    }
    strcpy(result->pem_chain, leaf_pem);
    strcat(result->pem_chain, ca->issuer_pem);
    result->pem_chain_len = len;
    for (char *c = result->serial_hex; *c; c++) *c = (char)tolower((unsigned char)*c);
    result->not_before = not_before;
    result->not_after = not_after;
    status = ACMEEH_STATUS_OK;
done:
    OPENSSL_free(hex);
    free(leaf_pem);
    BN_free(serial);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_free(leaf);
    X509_REQ_free(csr);
    ERR_clear_error();
    return status;
}

/* The host records revocations and builds CRLs; this CA keeps no state. */
static int32_t revoke(void *instance, const acmeeh_ca_revoke_request *request, acmeeh_error *err) {
    (void)instance; (void)request; (void)err;
    return ACMEEH_STATUS_OK;
}

/* ABI 1.1: a v2 CRL of the issuer listing the host's entries, with cRLNumber and AKI. */
static int32_t sign_crl(void *instance, const acmeeh_ca_crl_request *request,
                        acmeeh_ca_crl_result *result, acmeeh_error *err) {
    minimal_ca *ca = instance;
    if (request->struct_size < ACMEEH_CA_CRL_REQUEST_V1_1_SIZE || result->struct_size < ACMEEH_CA_CRL_RESULT_V1_1_SIZE)
        return fail(err, ACMEEH_E_INTERNAL, NULL, "CRL request/result smaller than the v1.1 layout");
    const char *hash = request->hash_algorithm && *request->hash_algorithm ? request->hash_algorithm : "sha256";
    const EVP_MD *md = strcmp(hash, "sha256") == 0 ? EVP_sha256()
                     : strcmp(hash, "sha384") == 0 ? EVP_sha384()
                     : strcmp(hash, "sha512") == 0 ? EVP_sha512() : NULL;
    if (!md) return fail(err, ACMEEH_E_INVALID_INPUT, NULL, "unsupported hash_algorithm %s", hash);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *time = NULL;
    BIGNUM *bn = NULL;
    ASN1_INTEGER *number = NULL;
    unsigned char *der = NULL;
    int32_t status = ACMEEH_STATUS_ERROR;
    int ok = crl && X509_CRL_set_version(crl, X509_CRL_VERSION_2)
        && X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->issuer))
        && (time = ASN1_TIME_set(NULL, (time_t)request->this_update)) && X509_CRL_set1_lastUpdate(crl, time)
        && ASN1_TIME_set(time, (time_t)request->next_update) && X509_CRL_set1_nextUpdate(crl, time);
    for (size_t i = 0; ok && i < request->entry_count; i++) {
        const acmeeh_crl_entry *entry = &request->entries[i];
        X509_REVOKED *revoked = X509_REVOKED_new();
        ASN1_ENUMERATED *reason = NULL;
        ok = revoked && (bn = BN_bin2bn(entry->serial, (int)entry->serial_len, bn))
            && (number = BN_to_ASN1_INTEGER(bn, number)) && X509_REVOKED_set_serialNumber(revoked, number)
            && ASN1_TIME_set(time, (time_t)entry->revocation_time) && X509_REVOKED_set_revocationDate(revoked, time);
        if (ok && entry->reason >= 0)
            ok = (reason = ASN1_ENUMERATED_new()) && ASN1_ENUMERATED_set(reason, entry->reason)
                && X509_REVOKED_add1_ext_i2d(revoked, NID_crl_reason, reason, 0, 0);
        ASN1_ENUMERATED_free(reason);
        if (ok) ok = X509_CRL_add0_revoked(crl, revoked);
        else X509_REVOKED_free(revoked);
    }
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca->issuer, NULL, NULL, crl, 0);
    X509_EXTENSION *aki = ok ? X509V3_EXT_conf(NULL, &ctx, "authorityKeyIdentifier", "keyid:always") : NULL;
    ok = ok && aki && X509_CRL_add_ext(crl, aki, -1)
        && (bn = BN_bin2bn(request->crl_number, (int)request->crl_number_len, bn))
        && (number = BN_to_ASN1_INTEGER(bn, number)) && X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0)
        && X509_CRL_sign(crl, ca->key, EVP_PKEY_get_id(ca->key) == EVP_PKEY_ED25519 ? NULL : md);
    int len = ok ? i2d_X509_CRL(crl, &der) : 0;
    if (len <= 0 || !(result->crl_der = malloc((size_t)len))) {
        fail(err, ACMEEH_E_INTERNAL, NULL, "signing the CRL failed: %s", ERR_error_string(ERR_get_error(), NULL));
    } else {
        memcpy(result->crl_der, der, (size_t)len);
        result->crl_der_len = (size_t)len;
        status = ACMEEH_STATUS_OK;
    }
    OPENSSL_free(der);
    X509_EXTENSION_free(aki);
    ASN1_INTEGER_free(number);
    BN_free(bn);
    ASN1_TIME_free(time);
    X509_CRL_free(crl);
    ERR_clear_error();
    return status;
}

static const acmeeh_plugin_descriptor descriptor = {
    .struct_size = sizeof(acmeeh_plugin_descriptor),
    .abi_version = ACMEEH_ABI_VERSION,
    .kind = ACMEEH_KIND_CA,
    .name = "MinimalCA",
    .version = "1.0.0",
    .description = "Example CA in plain C: signs with issuer_cert/issuer_key",
    .create = create,
    .destroy = destroy,
    .buffer_free = buffer_free,
    .ca_sign = sign,
    .ca_revoke = revoke,
    .ca_sign_crl = sign_crl, /* since 1.1; a 1.0 host never reads it */
    .ca_features = ACMEEH_CA_FEATURE_PRECERTIFICATE, /* since 1.1: add_transparency */
};

ACMEEH_PLUGIN_EXPORT const acmeeh_plugin_descriptor *acmeeh_plugin_register(uint32_t host_abi_version) {
    (void)host_abi_version; /* the host refuses a major mismatch itself */
    return &descriptor;
}
