/*
 * ladder.h -- GET /trace: the recent connections drawn as ladder
 * (sequence) diagrams, the client on the left, synack on the right, one
 * arrow per segment with its flags, relative seq/ack and length, and each
 * side's state after it.
 *
 * Built from the trace records the host keeps (http_host.h trace_count,
 * trace_get): already-structured segments and state changes, so HTTP never
 * parses a packet.  synack's states come from its own trace; the client's
 * are inferred from the segments (RFC 9293 §3.3.2), since the kernel's TCB
 * cannot be seen from here, and the page says so.  The page is one
 * self-contained HTML document: inline CSS and SVG, nothing loaded.
 */
#ifndef SYNACK_LADDER_H
#define SYNACK_LADDER_H

#include <stddef.h>
#include <stdint.h>

#include "http/http_host.h"

#define LADDER_PATH "/trace"
#define LADDER_MAX_CONNS 8          /* connections drawn */
#define LADDER_SCAN_RECORDS 8192    /* only the newest records are read */
#define LADDER_MAX_ROWS 80          /* arrows per connection; a longer one
                                       loses its middle */
#define LADDER_MAX_NOTES 8          /* state changes and events per arrow */
#define LADDER_MAX_PAGE (4u << 20)  /* bytes; connections past it are left out */

/* Renders the page for the client at peer_addr:peer_port (its own
 * connection is drawn first).  Returns the length and sets *page, which
 * the caller frees; 0 when out of memory. */
size_t http_ladder_page(const struct http_host *host, uint32_t peer_addr, uint16_t peer_port,
                        char **page);

#endif
