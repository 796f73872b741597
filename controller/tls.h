/*
 * tls.h: the controller's certificate and private key (serve --tls-cert,
 * --tls-key), read and checked before libmicrohttpd (GnuTLS) gets them, so
 * that a wrong file is named with its fault instead of "cannot listen".
 */
#ifndef WF_CTL_TLS_H
#define WF_CTL_TLS_H

#include <stddef.h>

/*
 * What the controller serves with TLS: the certificate and key of
 * --tls-cert and --tls-key as GnuTLS uses them, handed to each handshake by
 * a callback (libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK), so that a
 * SIGHUP can swap in a renewed certificate without a restart or a dropped
 * connection. One per process (GnuTLS's callback takes no argument).
 */
struct tls_server;

/*
 * Loads both files. The key file must be private (lib/config.h:
 * wf_secret_file_read). Checked: the certificate file holds a PEM
 * certificate, the key is a PEM private key without a passphrase, and the
 * two belong together; a wrong file is named with its fault. NULL with a
 * cause. A certificate past its end date is logged, not refused (clients
 * refuse it).
 */
struct tls_server *
tls_server_new(const char *cert_path, const char *key_path, char **cause);
/*
 * Reads the same two files again, checked as above. 1: new handshakes get
 * the new certificate; 0: the files hold what is served already; -1 with a
 * cause: the old certificate stays. Connections made earlier keep theirs.
 */
int tls_server_reload(struct tls_server *t, char **cause);
/* The certificate new handshakes get, for the log. */
const char *tls_server_subject(const struct tls_server *t);
const char *tls_server_not_after(const struct tls_server *t);
/* For MHD_OPTION_HTTPS_CERT_CALLBACK (gnutls_certificate_retrieve_function2) */
void *tls_server_callback(void);
/* After libmicrohttpd has stopped: frees every certificate loaded. */
void tls_server_free(struct tls_server *t);

#endif
