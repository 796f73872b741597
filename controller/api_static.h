/*
 * api_static.h: the dashboard's static files (--web DIR) at "/".
 */
#ifndef WF_CTL_API_STATIC_H
#define WF_CTL_API_STATIC_H

#include "api.h"

/* GET r->url from dir (NULL: 404). Traversal out of dir is refused (400). */
void api_static_serve(const char *dir, struct req *r, struct reply *out);

#endif
