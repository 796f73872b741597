/*
 * tls.h: the controller's certificate and private key (serve --tls-cert,
 * --tls-key), read and checked before libmicrohttpd (GnuTLS) gets them, so
 * that a wrong file is named with its fault instead of "cannot listen".
 */
#ifndef WF_CTL_TLS_H
#define WF_CTL_TLS_H

#include <stddef.h>

struct tls_pem {
	char	*cert;		/* PEM: the server certificate, then its chain */
	char	*key;		/* PEM: its private key, not encrypted */
	char	 subject[256];	/* of the server certificate, for the log */
	char	 not_after[64];
};

/*
 * Reads both files into out. The key file must be private (lib/config.h:
 * wf_secret_file_read). Checked: the certificate file holds a PEM
 * certificate, the key is a PEM private key without a passphrase, and the
 * two belong together. 0, or -1 with a cause naming the file. A certificate
 * past its end date is logged, not refused (clients refuse it).
 */
int tls_load(const char *cert_path, const char *key_path, struct tls_pem *out,
	    char **cause);
/* Wipes the key; a zeroed struct is fine. */
void tls_free(struct tls_pem *t);

#endif
