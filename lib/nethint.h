/*
 * nethint.h: what to do about a failed request to the controller, for the
 * errors a new set-up meets (TLS and http/https mix-ups): the hint that
 * lib/http.c appends to its cause, and which errors are about certificates
 * (the agent retries those slowly: they do not fix themselves).
 */
#ifndef WF_NETHINT_H
#define WF_NETHINT_H

/*
 * A hint for libcurl's error code on url (ca_file: the CA file in use,
 * NULL for the system's), starting with " (" and ending with ")", or ""
 * when there is none. Static storage.
 */
const char *wf_net_hint(int curl_code, const char *url, const char *ca_file);

/* 1 when the error code is one of TLS set-up: a certificate that does not
 * verify, a CA file that cannot be read, a handshake that failed. */
int wf_net_tls_error(int curl_code);

#endif
