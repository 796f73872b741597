/*
 * tls.c: read and check the controller's certificate and key (see tls.h).
 * OpenSSL's libcrypto (linked already, for tokens) checks them here, so
 * that a fault is named; GnuTLS, libmicrohttpd's TLS library, then gets the
 * same PEM text through a certificate callback.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "log.h"
#include "tls.h"
#include "util.h"

#define TLS_CERT_MAX (1024 * 1024)

/* The two files as read and checked by tls_load. */
struct tls_pem {
	char *cert; /* PEM: the server certificate, then its chain */
	char *key; /* PEM: its private key, not encrypted */
	char subject[256]; /* of the server certificate, for the log */
	char not_after[64];
};

static void tls_free(struct tls_pem *t);

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

	X509_NAME_oneline(
	    X509_get_subject_name(x), out->subject, sizeof out->subject);
	if (b != NULL && ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1)
		n = BIO_read(b, out->not_after, sizeof out->not_after - 1);
	out->not_after[n > 0 ? n : 0] = '\0';
	BIO_free(b);
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		log_warnx(
		    "TLS: the certificate (%s) expired on %s: clients will"
		    " refuse it",
		    out->subject, out->not_after);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		log_warnx("TLS: the certificate (%s) is not valid yet: clients"
		          " will refuse it",
		    out->subject);
}

/* Reads and checks both files into out: 0, or -1 with a cause. */
static int
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
	/* A certificate chain is public: any readable file will do. */
	if ((out->cert = wf_file_read(cert_path, TLS_CERT_MAX, NULL, &why)) ==
	    NULL) {
		wf_set_cause(cause, "--tls-cert %s", wf_cause_str(why));
		goto out;
	}
	if ((out->key = wf_secret_file_read(
	         key_path, WF_SECRET_MAX, &keylen, &why)) == NULL) {
		wf_set_cause(cause, "--tls-key %s", wf_cause_str(why));
		goto out;
	}
	if ((b = BIO_new_mem_buf(out->cert, -1)) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		wf_set_cause(cause,
		    "--tls-cert %s: no PEM certificate"
		    " (-----BEGIN CERTIFICATE-----) in it",
		    cert_path);
		goto out;
	}
	BIO_free(b);
	if ((b = BIO_new_mem_buf(out->key, (int)keylen)) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)) ==
	        NULL) {
		wf_set_cause(cause, "--tls-key %s: %s", key_path,
		    strstr(out->key, "ENCRYPTED") != NULL ?
		        "the key is"
		        " encrypted; give it without a passphrase (openssl pkey -in"
		        " KEY -out PLAIN) in a file only its user can read" :
		        "no PEM private key in it");
		goto out;
	}
	if (X509_check_private_key(x, pkey) != 1) {
		wf_set_cause(cause,
		    "--tls-key %s is not the key of the"
		    " certificate in --tls-cert %s",
		    key_path, cert_path);
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

/* Wipes the key; a zeroed struct is fine. */
static void
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

/*
 * --- the served certificate ---------------------------------------------
 *
 * Each load makes a generation. GnuTLS keeps pointers to the generation a
 * handshake got for as long as that session lives and never frees them
 * (retrieve_function2 returns no "free this" flag), so generations replaced
 * by a reload stay until tls_server_free: a few KiB per renewal.
 */
#define TLS_CHAIN_MAX 16

struct tls_gen {
	struct tls_gen *older;
	gnutls_pcert_st pcert[TLS_CHAIN_MAX];
	unsigned int npcert;
	gnutls_privkey_t key;
	unsigned char digest[32]; /* of the PEM texts */
	char subject[256];
	char not_after[64];
};

struct tls_server {
	char *cert_path;
	char *key_path;
	pthread_mutex_t lock;
	struct tls_gen *cur; /* then ->older ones */
};

static struct tls_server *serving;

static void
gen_free(struct tls_gen *g)
{
	for (unsigned int i = 0; i < g->npcert; i++)
		gnutls_pcert_deinit(&g->pcert[i]);
	if (g->key != NULL)
		gnutls_privkey_deinit(g->key);
	free(g);
}

static void
pem_digest(const struct tls_pem *pem, unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memset(out, 0, 32);
	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, pem->cert, strlen(pem->cert)) == 1 &&
	    EVP_DigestUpdate(c, pem->key, strlen(pem->key)) == 1)
		EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
}

/* The files, checked by tls_load, as GnuTLS objects. */
static struct tls_gen *
gen_load(const char *cert_path, const char *key_path, char **cause)
{
	struct tls_pem pem;
	struct tls_gen *g;
	gnutls_datum_t d;
	int rc;

	if (tls_load(cert_path, key_path, &pem, cause) == -1)
		return NULL;
	if ((g = calloc(1, sizeof *g)) == NULL) {
		wf_set_cause(cause, "out of memory");
		goto fail;
	}
	memcpy(g->subject, pem.subject, sizeof g->subject);
	memcpy(g->not_after, pem.not_after, sizeof g->not_after);
	pem_digest(&pem, g->digest);
	d = (gnutls_datum_t){ (unsigned char *)pem.cert,
		(unsigned int)strlen(pem.cert) };
	g->npcert = TLS_CHAIN_MAX;
	if ((rc = gnutls_pcert_list_import_x509_raw(
	         g->pcert, &g->npcert, &d, GNUTLS_X509_FMT_PEM, 0)) < 0) {
		g->npcert = 0;
		wf_set_cause(cause, "--tls-cert %s: %s", cert_path,
		    rc == GNUTLS_E_SHORT_MEMORY_BUFFER ?
		        "more than 16"
		        " certificates in the chain" :
		        gnutls_strerror(rc));
		goto fail;
	}
	d = (gnutls_datum_t){ (unsigned char *)pem.key,
		(unsigned int)strlen(pem.key) };
	if ((rc = gnutls_privkey_init(&g->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(
	         g->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		wf_set_cause(
		    cause, "--tls-key %s: %s", key_path, gnutls_strerror(rc));
		goto fail;
	}
	tls_free(&pem);
	return g;
fail:
	tls_free(&pem);
	if (g != NULL)
		gen_free(g);
	return NULL;
}

static int
on_handshake(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int npk_algos,
    gnutls_pcert_st **pcert, unsigned int *npcert, gnutls_privkey_t *key)
{
	struct tls_gen *g;

	if (serving == NULL)
		return -1;
	pthread_mutex_lock(&serving->lock);
	g = serving->cur;
	pthread_mutex_unlock(&serving->lock);
	*pcert = g->pcert;
	*npcert = g->npcert;
	*key = g->key;
	return 0;
}

struct tls_server *
tls_server_new(const char *cert_path, const char *key_path, char **cause)
{
	struct tls_server *t;

	if (serving != NULL) {
		wf_set_cause(cause, "TLS: one server per process");
		return NULL;
	}
	if ((t = calloc(1, sizeof *t)) == NULL ||
	    (t->cert_path = strdup(cert_path)) == NULL ||
	    (t->key_path = strdup(key_path)) == NULL) {
		wf_set_cause(cause, "out of memory");
		goto fail;
	}
	if ((t->cur = gen_load(cert_path, key_path, cause)) == NULL)
		goto fail;
	pthread_mutex_init(&t->lock, NULL);
	serving = t;
	return t;
fail:
	if (t != NULL) {
		free(t->cert_path);
		free(t->key_path);
	}
	free(t);
	return NULL;
}

int
tls_server_reload(struct tls_server *t, char **cause)
{
	struct tls_gen *g;

	if ((g = gen_load(t->cert_path, t->key_path, cause)) == NULL)
		return -1;
	pthread_mutex_lock(&t->lock);
	if (memcmp(g->digest, t->cur->digest, sizeof g->digest) == 0) {
		pthread_mutex_unlock(&t->lock);
		gen_free(g);
		return 0;
	}
	g->older = t->cur;
	t->cur = g;
	pthread_mutex_unlock(&t->lock);
	return 1;
}

/* Only the main thread reloads: it may read cur without the lock. */
const char *
tls_server_subject(const struct tls_server *t)
{
	return t->cur->subject;
}

const char *
tls_server_not_after(const struct tls_server *t)
{
	return t->cur->not_after;
}

void *
tls_server_callback(void)
{
	return (void *)(gnutls_certificate_retrieve_function2 *)on_handshake;
}

void
tls_server_free(struct tls_server *t)
{
	struct tls_gen *g, *older;

	if (t == NULL)
		return;
	for (g = t->cur; g != NULL; g = older) {
		older = g->older;
		gen_free(g);
	}
	pthread_mutex_destroy(&t->lock);
	free(t->cert_path);
	free(t->key_path);
	if (serving == t)
		serving = NULL;
	free(t);
}
