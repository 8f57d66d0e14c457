/*
 * icp_codec.c - ICP version 2 messages (RFC 2186 section 1.1), pure:
 *
 *	 0       1       2       3
 *	opcode  version message length
 *	request number
 *	options
 *	option data
 *	sender host address
 *	payload: QUERY: requester host address, URL NUL; else URL NUL
 *
 * Every field is read within the bytes received; a datagram that lies
 * about its length, is cut, names an unknown opcode or carries no
 * terminated URL is refused with what was wrong.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "icp/icp.h"

static const char *const icp_bad_names[ICP_BAD__COUNT] = {
#define ICP_BAD(sym, what)	[ICP_BAD_##sym] = what,
	ICP_BADS
#undef ICP_BAD
};

const char *
icp_bad_name(enum icp_bad b)
{
	return (b < ICP_BAD__COUNT ? icp_bad_names[b] : "?");
}

const char *
icp_opcode_name(unsigned op)
{
	switch (op) {
#define ICP_OP(sym, val, name)	case val: return (name);
	ICP_OPCODES
#undef ICP_OP
	default:
		return (NULL);
	}
}

static uint32_t
icp_get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

static void
icp_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

enum icp_bad
icp_decode(const void *data, size_t len, size_t full, struct icp_msg *m)
{
	const unsigned char *p = data;
	const char *url, *nul;
	size_t off, room;

	memset(m, 0, sizeof *m);
	if (full < ICP_HDR_LEN || len < ICP_HDR_LEN)
		return (ICP_BAD_SHORT);
	if (len < full)
		return (ICP_BAD_CUT);
	m->opcode = p[0];
	m->version = p[1];
	m->length = (uint16_t)(p[2] << 8 | p[3]);
	m->reqnum = icp_get32(p + 4);
	m->flags = icp_get32(p + 8);
	m->pad = icp_get32(p + 12);
	memcpy(&m->sender, p + 16, 4);
	if (m->length != len)
		return (ICP_BAD_LENGTH);
	if (m->version != ICP_VERSION)
		return (ICP_BAD_VERSION);
	if (icp_opcode_name(m->opcode) == NULL ||
	    m->opcode == ICP_OP_INVALID)
		return (ICP_BAD_OPCODE);
	off = ICP_HDR_LEN;
	if (m->opcode == ICP_OP_QUERY) {
		if (len < off + 4)
			return (ICP_BAD_URL);
		memcpy(&m->requester, p + off, 4);
		off += 4;
	}
	room = len - off;
	url = (const char *)p + off;
	nul = room > 0 ? memchr(url, '\0', room) : NULL;
	if (nul == NULL)
		return (ICP_BAD_URL);
	m->url = url;
	m->url_len = (size_t)(nul - url);
	if (m->url_len > ICP_MAX_URL || (m->url_len == 0 &&
	    m->opcode != ICP_OP_ERR))
		return (ICP_BAD_URL);
	return (ICP_BAD_NONE);
}

size_t
icp_encode(void *buf, size_t size, enum icp_opcode op, uint32_t reqnum,
    uint32_t flags, const char *url, size_t url_len)
{
	unsigned char *p = buf;
	size_t n = ICP_HDR_LEN + (op == ICP_OP_QUERY ? 4 : 0) + url_len + 1;

	if (url_len > ICP_MAX_URL || n > size || n > UINT16_MAX)
		return (0);
	memset(p, 0, ICP_HDR_LEN + 4);
	p[0] = (unsigned char)op;
	p[1] = ICP_VERSION;
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	icp_put32(p + 4, reqnum);
	icp_put32(p + 8, flags);
	memcpy(p + n - url_len - 1, url, url_len);
	p[n - 1] = '\0';
	return (n);
}
