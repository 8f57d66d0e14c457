/*
 * client_log.c - the access.log line of a finished transaction.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "client/client_int.h"
#include "log/access_log.h"

void
client_txn_log(struct client_txn *t)
{
	struct client_conn *cc = t->cc;
	struct access_log *l = cc->ctx->deps.access_log;
	const struct http_msg *rep;
	struct access_entry ae;
	char url[8192], method[64], code[64];

	client_mgr_txn_done(t);
	if (l == NULL || !access_log_active(l) || t->req.rawlen == 0)
		return;
	memset(&ae, 0, sizeof ae);
	ae.start = t->t_start;
	ae.client = &cc->peer.sa;
	ae.local = client_txn_local;
	ae.local_arg = t;
	if (t->server.sa.sa_family != AF_UNSPEC)
		ae.server = &t->server.sa;
	/* Squid's suffix for a transfer that did not complete. */
	snprintf(code, sizeof code, "%s%s", result_name(t->code),
	    result_end_suffix(t->end));
	ae.code = code;
	/* Squid's %Sh: why the server was chosen (HIER_DIRECT, CARP ...). */
	ae.hier = ae.server != NULL ? fwd_hier_name((t->icp_timedout ?
	    FWD_HIER_TIMEOUT : 0) | (t->hier != FWD_HIER_NONE ? t->hier :
	    FWD_HIER_DIRECT)) : "HIER_NONE";
	ae.status = t->status;
	snprintf(method, sizeof method, "%.*s", (int)t->req.method_name.len,
	    http_msg_ptr(&t->req, t->req.method_name));
	ae.method = method;
	snprintf(url, sizeof url, "%.*s", (int)t->req.target.len,
	    http_msg_ptr(&t->req, t->req.target));
	ae.url = url;
	ae.err_code = t->err_name;
	/* %un: who proxy_auth vouched for, else an external acl's user=
	 * (Squid's "any user name available"). */
	ae.user = t->lk.user != NULL ? t->lk.user : t->lk.ext_user;
	ae.ext_user = t->lk.ext_user;
	ae.ext_tag = t->lk.ext_tag;
	ae.ext_log = t->lk.ext_log;
	ae.store_id = client_adapt_store_id(t);
	ae.bytes_out = t->bytes_out;
	ae.request = &t->req;
	rep = t->e != NULL && !t->errpage ? store_entry_reply(t->e) : NULL;
	ae.reply = rep;
	if (rep != NULL)
		ae.server_status = rep->status;
	access_log_write(l, &ae);
}
