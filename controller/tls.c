/*
 * tls.c: read and check the controller's certificate and key (see tls.h).
 * OpenSSL's libcrypto (linked already, for tokens) parses them here;
 * libmicrohttpd hands the same PEM text to GnuTLS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "log.h"
#include "tls.h"
#include "util.h"

#define TLS_CERT_MAX	(1024 * 1024)

/* A certificate chain is public: any readable file will do. */
static char *
read_public(const char *path, char **cause)
{
	char *buf = NULL;
	size_t len;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		wf_set_cause(cause, "--tls-cert %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(TLS_CERT_MAX + 1)) == NULL) {
		wf_set_cause(cause, "out of memory");
		goto out;
	}
	len = fread(buf, 1, TLS_CERT_MAX + 1, f);
	if (ferror(f) || len > TLS_CERT_MAX) {
		wf_set_cause(cause, "--tls-cert %s: %s", path, ferror(f) ?
		    "read error" : "larger than 1 MiB");
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[len] = '\0';
out:
	fclose(f);
	return buf;
}

/* OpenSSL would prompt on the terminal for a passphrase: say there is none. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return -1;
}

static void
describe(X509 *x, struct tls_pem *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	X509_NAME_oneline(X509_get_subject_name(x), out->subject,
	    sizeof out->subject);
	if (b != NULL && ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1)
		n = BIO_read(b, out->not_after, sizeof out->not_after - 1);
	out->not_after[n > 0 ? n : 0] = '\0';
	BIO_free(b);
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		log_warnx("TLS: the certificate (%s) expired on %s: clients will"
		    " refuse it", out->subject, out->not_after);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		log_warnx("TLS: the certificate (%s) is not valid yet: clients"
		    " will refuse it", out->subject);
}

int
tls_load(const char *cert_path, const char *key_path, struct tls_pem *out,
    char **cause)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIO *b = NULL;
	char *why = NULL;
	size_t keylen = 0;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if ((out->cert = read_public(cert_path, cause)) == NULL)
		goto out;
	if ((out->key = wf_secret_file_read(key_path, WF_SECRET_MAX, &keylen,
	    &why)) == NULL) {
		wf_set_cause(cause, "--tls-key %s", wf_cause_str(why));
		goto out;
	}
	if ((b = BIO_new_mem_buf(out->cert, -1)) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		wf_set_cause(cause, "--tls-cert %s: no PEM certificate"
		    " (-----BEGIN CERTIFICATE-----) in it", cert_path);
		goto out;
	}
	BIO_free(b);
	if ((b = BIO_new_mem_buf(out->key, (int)keylen)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(b, NULL, no_passphrase,
	    NULL)) == NULL) {
		wf_set_cause(cause, "--tls-key %s: %s", key_path,
		    strstr(out->key, "ENCRYPTED") != NULL ? "the key is"
		    " encrypted; give it without a passphrase (openssl pkey -in"
		    " KEY -out PLAIN) in a file only its user can read" :
		    "no PEM private key in it");
		goto out;
	}
	if (X509_check_private_key(x, pkey) != 1) {
		wf_set_cause(cause, "--tls-key %s is not the key of the"
		    " certificate in --tls-cert %s", key_path, cert_path);
		goto out;
	}
	describe(x, out);
	rc = 0;
out:
	free(why);
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	X509_free(x);
	BIO_free(b);
	if (rc == -1)
		tls_free(out);
	return rc;
}

void
tls_free(struct tls_pem *t)
{
	if (t == NULL)
		return;
	if (t->key != NULL)
		explicit_bzero(t->key, strlen(t->key));
	free(t->key);
	free(t->cert);
	t->key = t->cert = NULL;
}
