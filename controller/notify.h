/*
 * notify.h: subscriptions and their deliveries (controller/README.md,
 * "Notifications").
 *
 * One thread does both halves. It reads the feed (db/007_ci.sql) in order:
 * a finished run (its nightly cases classified against the night before:
 * regression, new failure, fixed) or a finished bisect becomes, for every
 * subscription it matches, one row of the outbox, made in the transaction
 * that moves the thread's cursor over the feed, UNIQUE per subscription and
 * event: queued once, whatever stops the controller. Then it sends what is
 * due: a webhook as a JSON POST signed with HMAC-SHA256 (OpenSSL) over the
 * body, a mail through libcurl's SMTP to --smtp-url; a failure is tried
 * again after a backoff (--notify-retry-ms, doubling, at most 10 minutes,
 * with jitter) until NOTIFY_MAX_AGE_MS, then marked failed. A row is marked
 * sent as soon as its receiver took it: only a controller killed between a
 * receiver's 2xx and that commit sends it again after a restart, with the
 * same delivery id (X-Wakefarm-Delivery, the mail's Message-ID), so a
 * receiver can drop the second.
 */
#ifndef WF_CTL_NOTIFY_H
#define WF_CTL_NOTIFY_H

#include <stdint.h>

#include <jansson.h>

#include "api.h"

#define NOTIFY_MAX_AGE_MS (24LL * 3600 * 1000)
#define NOTIFY_BACKOFF_MAX_MS (10LL * 60 * 1000)

struct notify;

/* NULL when its thread cannot start. */
struct notify *notify_start(struct api *api);
void notify_stop(struct notify *n); /* NULL is a no-op */
/* Something may be due now (a subscription added). */
void notify_kick(struct api *api);

/* The admin API (api_notify.c). */
void api_subscriptions_list(struct req *r, struct reply *out);
void api_subscription_add(struct req *r, struct reply *out);
void api_subscription_rm(struct req *r, struct reply *out);
void api_deliveries_list(struct req *r, struct reply *out);

/*
 * What a notification says (notify_msg.c), built under the lock from the
 * database: the webhook's JSON (new) for event about ctx ({"run", "case"}
 * or {"bisect"}), and a mail's subject and plain text (malloc'd).
 */
json_t *notify_msg_json(struct api *api, const char *event, const json_t *ctx,
    const char *subscription, const char *delivery);
int notify_msg_mail(struct api *api, const json_t *payload, const char *to,
    char **subject, char **text);
/*
 * The details of a case for a notification (new): the job's row, its
 * first failed check, the known issues, the end of its log, links, the
 * "bisect this" command line. NULL on a database error.
 */
json_t *notify_msg_case(struct api *api, const json_t *run, const json_t *cls);

/* Sending (notify_send.c): 0 sent, -1 with a cause (to try again). */
int notify_send_webhook(const char *url, const char *secret, const char *event,
    const char *delivery, const char *body, char **cause);
int notify_send_mail(const struct ctl_config *cfg, const char *to,
    const char *text, char **cause);
/* HMAC-SHA256 of body with key, as 64 lowercase hex digits (+ NUL). */
int notify_hmac_hex(const char *key, const char *body, char out[65]);

#endif
