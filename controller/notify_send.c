/*
 * notify_send.c: one delivery (see notify.h): a webhook POST with its
 * HMAC-SHA256 signature (OpenSSL), or a mail through libcurl's SMTP. Both
 * with time limits, no redirects followed, http(s) or smtp(s) only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "notify.h"
#include "util.h"

#ifndef WF_VERSION
#define WF_VERSION "unknown"
#endif

#define SEND_CONNECT_MS 5000
#define SEND_TOTAL_MS 20000
#define REPLY_KEEP 512 /* bytes of a refusal kept as the error */

int
notify_hmac_hex(const char *key, const char *body, char out[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), key, (int)strlen(key),
	        (const unsigned char *)body, strlen(body), mac, &len) == NULL ||
	    len != 32)
		return -1;
	wf_hex(out, mac, len);
	return 0;
}

/* The first bytes of a receiver's reply, for the error. */
struct sink {
	char text[REPLY_KEEP + 1];
	size_t len;
};

static size_t
keep_reply(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, room = REPLY_KEEP - s->len;

	if (room > n)
		room = n;
	memcpy(s->text + s->len, data, room);
	s->len += room;
	s->text[s->len] = '\0';
	return n;
}

static int
add(struct curl_slist **l, const char *h)
{
	struct curl_slist *n = curl_slist_append(*l, h);

	if (n == NULL)
		return -1;
	*l = n;
	return 0;
}

int
notify_send_webhook(const char *url, const char *secret, const char *event,
    const char *delivery, const char *body, char **cause)
{
	struct curl_slist *h = NULL;
	struct sink reply = { .len = 0 };
	char hdr[256], hex[65], err[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURL *c;
	CURLcode rc;
	int ret = -1;

	if ((c = curl_easy_init()) == NULL ||
	    notify_hmac_hex(secret, body, hex) == -1) {
		wf_set_cause(cause, "out of memory");
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "X-Wakefarm-Signature-256: sha256=%s", hex);
	if (add(&h, "Content-Type: application/json") == -1 ||
	    add(&h, "Expect:") == -1 || add(&h, hdr) == -1)
		goto oom;
	snprintf(hdr, sizeof(hdr), "X-Wakefarm-Event: %.64s", event);
	if (add(&h, hdr) == -1)
		goto oom;
	snprintf(hdr, sizeof(hdr), "X-Wakefarm-Delivery: %.128s", delivery);
	if (add(&h, hdr) == -1)
		goto oom;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)SEND_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)SEND_TOTAL_MS);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "wakefarm/" WF_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(
	    c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		wf_set_cause(
		    cause, "%s", err[0] ? err : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		reply.text[strcspn(reply.text, "\r\n")] = '\0';
		wf_set_cause(cause, "HTTP %ld %.200s", code, reply.text);
		goto out;
	}
	ret = 0;
	goto out;
oom:
	wf_set_cause(cause, "out of memory");
out:
	curl_slist_free_all(h);
	if (c != NULL)
		curl_easy_cleanup(c);
	return ret;
}

/* The mail's text, read by libcurl's upload. */
struct upload {
	const char *p;
	size_t left;
};

static size_t
read_mail(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* "<addr>" for every address of the comma-separated to. */
static struct curl_slist *
recipients(const char *to)
{
	struct curl_slist *l = NULL;
	char *copy = strdup(to), *p, *save = NULL, one[512];

	for (p = copy ? strtok_r(copy, ",", &save) : NULL; p != NULL;
	     p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ')
			p++;
		snprintf(one, sizeof(one), "<%s>", p);
		if (add(&l, one) == -1)
			break;
	}
	free(copy);
	return l;
}

int
notify_send_mail(const struct ctl_config *cfg, const char *to, const char *text,
    char **cause)
{
	struct upload up = { text, strlen(text) };
	struct curl_slist *rcpt = NULL;
	char from[600], host[256], err[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;
	int ret = -1;

	if (cfg->smtp_url == NULL) {
		wf_set_cause(cause, "no --smtp-url to send mail through");
		return -1;
	}
	if (cfg->smtp_from != NULL) {
		snprintf(from, sizeof(from), "<%s>", cfg->smtp_from);
	} else {
		if (gethostname(host, sizeof(host)) != 0)
			wf_strlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		snprintf(from, sizeof(from), "<wakefarm@%s>", host);
	}
	if ((c = curl_easy_init()) == NULL || (rcpt = recipients(to)) == NULL) {
		wf_set_cause(cause, "out of memory");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)SEND_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)SEND_TOTAL_MS);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_mail);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		wf_set_cause(cause, "%s: %s", cfg->smtp_url,
		    err[0] ? err : curl_easy_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(rcpt);
	if (c != NULL)
		curl_easy_cleanup(c);
	return ret;
}
