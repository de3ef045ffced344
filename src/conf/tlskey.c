#include "conf/tlskey.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A key is never decrypted here: an encrypted one fails like a damaged one. */
int conf_tls_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return 0;
}

/* Why a key file (its fstat) may not be used, or NULL. */
static const char *tls_key_file_refusal(const struct stat *st, char *buf, size_t cap)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if ((st->st_mode & 077) != 0) {
		snprintf(buf, cap,
			 "permissions %04o are too open: a private key must not be accessible "
			 "to group or others (chmod 600 it)",
			 (unsigned)(st->st_mode & 07777));
		return buf;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(buf, cap,
			 "owned by uid %u: a private key must belong to root or to the user "
			 "pxed runs as",
			 (unsigned)st->st_uid);
		return buf;
	}
	if (st->st_size > CONF_TLS_KEY_MAX)
		return "larger than 64 KiB: not a key";
	return NULL;
}

/* Reads fd whole (at most CONF_TLS_KEY_MAX bytes) into buf: the length, or -errno. */
static ssize_t tls_key_read(int fd, char *buf)
{
	size_t got = 0;

	while (got < CONF_TLS_KEY_MAX) {
		ssize_t n = read(fd, buf + got, CONF_TLS_KEY_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int conf_tls_key_load(const char *path, EVP_PKEY **out, char *why, size_t cap)
{
	/* O_NONBLOCK: a FIFO put at the path must not hold the start (or `pxed check`). */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	char *buf = NULL, reason[160];
	const char *refusal;
	struct stat st;
	ssize_t n;
	int rc = -EINVAL;

	*out = NULL;
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(why, cap, "http.tls_key %s: %s", path, strerror(errno));
		goto out;
	}
	refusal = tls_key_file_refusal(&st, reason, sizeof(reason));
	if (refusal != NULL) {
		snprintf(why, cap, "http.tls_key %s: %s", path, refusal);
		goto out;
	}
	buf = malloc(CONF_TLS_KEY_MAX);
	if (buf == NULL) {
		rc = -ENOMEM;
		snprintf(why, cap, "http.tls_key %s: out of memory", path);
		goto out;
	}
	n = tls_key_read(fd, buf);
	if (n < 0) {
		rc = (int)n;
		snprintf(why, cap, "http.tls_key %s: %s", path, strerror((int)-n));
		goto out;
	}
	BIO *bio = BIO_new_mem_buf(buf, (int)n);
	if (bio != NULL)
		*out = PEM_read_bio_PrivateKey(bio, NULL, conf_tls_no_passphrase, NULL);
	BIO_free(bio);
	if (*out != NULL) {
		rc = 0;
	} else {
		unsigned long e = ERR_peek_last_error();
		const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
		snprintf(why, cap, "http.tls_key %s holds no unencrypted PEM private key (%s)",
			 path, r != NULL ? r : "no PEM data");
	}
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, CONF_TLS_KEY_MAX);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	ERR_clear_error();
	return rc;
}
