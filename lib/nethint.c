/*
 * nethint.c: hints for failed requests to the controller; see nethint.h.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "nethint.h"

int
wf_net_tls_error(int curl_code)
{
	switch (curl_code) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return 1;
	}
	return 0;
}

const char *
wf_net_hint(int curl_code, const char *url, const char *ca_file)
{
	static __thread char hint[512];
	int https = strncmp(url, "https://", 8) == 0;

	hint[0] = '\0';
	if (curl_code == CURLE_PEER_FAILED_VERIFICATION && ca_file == NULL)
		snprintf(hint, sizeof(hint),
		    " (the controller's certificate is not signed by a CA this"
		    " machine trusts: give the CA that signed it with --ca-file"
		    " FILE, or WAKEFARM_CA_FILE for the CLI)");
	else if (curl_code == CURLE_PEER_FAILED_VERIFICATION)
		snprintf(hint, sizeof(hint),
		    " (the certificate does not verify against --ca-file %s: is"
		    " that the CA that signed it, and does its subjectAltName"
		    " name the address in the URL?)",
		    ca_file);
	else if (curl_code == CURLE_SSL_CACERT_BADFILE)
		snprintf(hint, sizeof(hint),
		    " (the CA file %s cannot be read as PEM certificates)",
		    ca_file ? ca_file : "of this system");
	else if (curl_code == CURLE_GOT_NOTHING && !https)
		snprintf(hint, sizeof(hint),
		    " (nothing came back to plain HTTP: if the controller"
		    " serves HTTPS (--tls-cert), use https:// in the URL)");
	else if (curl_code == CURLE_SSL_CONNECT_ERROR && https)
		snprintf(hint, sizeof(hint),
		    " (the TLS handshake failed: if the controller serves plain"
		    " HTTP, use http:// in the URL)");
	return hint;
}
