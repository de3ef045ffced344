/*
 * http.tls_key's loader, shared by `pxed check` (conf/config.c) and the
 * HTTPS server (http/tls.c): the key is checked and read the same way by both.
 */
#ifndef PXED_CONF_TLSKEY_H
#define PXED_CONF_TLSKEY_H

#include <openssl/evp.h>
#include <stddef.h>

/* A key file is a few KiB: anything larger is not one, and is not read. */
#define CONF_TLS_KEY_MAX (64 * 1024)

/*
 * http.tls_key's private key, for `pxed check` (conf/config.c) and the
 * server alike. Like ssh with its keys, the file must be a regular file
 * (a FIFO is refused at once, not waited on), owned by root or by the
 * effective user, that group and others cannot access. It is read once
 * into memory, parsed there, and the copy wiped. 0 and *out, or -errno
 * with why filled in ("http.tls_key PATH: ...").
 */
int conf_tls_key_load(const char *path, EVP_PKEY **out, char *why, size_t cap);

/* OpenSSL's passphrase callback that gives none: an encrypted key or certificate fails. */
int conf_tls_no_passphrase(char *buf, int size, int rwflag, void *arg);

#endif
