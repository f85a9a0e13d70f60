/*
 * request_parser.h -- an incremental, strict HTTP/1.1 request parser
 * (RFC 9112).  Bytes go in as they arrive, one at a time or many; the
 * parser stops at the end of one request (head and body) or at the first
 * error, which it names with the status code to answer.
 */
#ifndef SYNACK_REQUEST_PARSER_H
#define SYNACK_REQUEST_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults of the bounds on one request; each has a synackd flag. */
#define HTTP_DEFAULT_MAX_REQUEST_LINE (8 * 1024)   /* --max-request-line, else 414 */
#define HTTP_DEFAULT_MAX_HEADER_BYTES (32 * 1024)  /* --max-header-bytes, else 431 */
#define HTTP_DEFAULT_MAX_HEADERS 100               /* --max-headers, else 431 */
#define HTTP_DEFAULT_MAX_BODY (1024 * 1024)        /* --max-body, else 413 */
/* A chunk-size line with its extensions (RFC 9112 §7.1.1); past it, 400. */
#define HTTP_MAX_CHUNK_LINE 1024
/* CR and LF bytes before a request line: RFC 9112 §2.2 asks a server to
 * ignore at least one empty line (a stray CRLF after a body); four are
 * ignored, more get 400, so a client cannot hold a connection by sending
 * nothing but line ends. */
#define HTTP_MAX_LEADING_EMPTY_BYTES 8

struct http_limits {
    uint32_t max_request_line;  /* bytes of the request line, CRLF excluded */
    uint32_t max_header_bytes;  /* bytes of the field lines, CRLFs included */
    uint32_t max_headers;       /* field lines */
    uint64_t max_body;          /* bytes of request content, however framed */
};

enum http_method {
    HTTP_METHOD_UNKNOWN,  /* not one RFC 9110 §9 defines: 501 */
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_OPTIONS,
    HTTP_METHOD_POST,
    HTTP_METHOD_PUT,
    HTTP_METHOD_DELETE,
    HTTP_METHOD_CONNECT,
    HTTP_METHOD_TRACE,
    HTTP_METHOD_PATCH,    /* RFC 5789; known, so 405 rather than 501 */
};

/* A piece of the parser's buffer: not NUL-terminated. */
struct http_str {
    const char *p;
    size_t len;
};

struct http_field {
    uint32_t name_off, name_len;
    uint32_t value_off, value_len;  /* leading and trailing OWS removed */
};

enum http_parse_state {
    HTTP_PARSE_START,        /* before the request line; empty lines skipped */
    HTTP_PARSE_REQUEST_LINE,
    HTTP_PARSE_FIELD_LINE,
    HTTP_PARSE_BODY,         /* Content-Length bytes left to discard */
    HTTP_PARSE_CHUNK_SIZE,
    HTTP_PARSE_CHUNK_DATA,
    HTTP_PARSE_CHUNK_END,    /* the CRLF after a chunk's data */
    HTTP_PARSE_TRAILER,
    HTTP_PARSE_DONE,         /* one whole request read */
    HTTP_PARSE_ERROR,        /* see error and why */
};

struct http_parser {
    struct http_limits lim;
    char *buf;                  /* request line, then field lines */
    uint32_t cap, len;
    struct http_field *fields;  /* lim.max_headers of them */
    uint32_t nfields;

    enum http_parse_state state;
    bool started;               /* a byte of this request has been seen */
    bool saw_cr;                /* the last byte was a CR: only LF may follow */
    uint32_t line_start;        /* where the current head line began in buf */
    uint32_t line_len;          /* bytes of a chunk or trailer line (not stored) */
    uint32_t header_bytes;      /* of the field section so far */
    uint32_t trailer_bytes;
    uint64_t remaining;         /* body or chunk bytes left */
    uint64_t chunk_size;
    bool chunk_digits, chunk_ext;
    bool chunk_semi;            /* the chunk extension's ';' was seen */
    bool trailer_value;         /* past the ':' of a trailer field line */

    /* The result, valid in DONE (and in ERROR as far as it got). */
    enum http_method method;
    uint32_t request_line_len;  /* 0 until the request line was complete */
    struct http_str method_str, target;
    unsigned version_minor;     /* HTTP/1.x; 0 or 1 (higher minors read as 1) */
    bool keep_alive;            /* what the client asked, per RFC 9112 §9.3 */
    bool chunked;
    uint64_t content_length;
    uint64_t body_bytes;        /* content read (and discarded) so far */

    int error;                  /* status code to answer in ERROR */
    const char *why;            /* what was wrong, for the log */
};

/* Allocates the buffers for these limits: 0, or -1 when out of memory. */
int http_parser_init(struct http_parser *p, const struct http_limits *lim);
void http_parser_free(struct http_parser *p);
/* What http_parser_init() allocates for these limits. */
size_t http_parser_bytes(const struct http_limits *lim);
/* Ready for the next request; buffers are kept. */
void http_parser_reset(struct http_parser *p);
/* Consumes bytes up to the end of one request or an error and returns how
 * many; the rest belongs to the next request (pipelining, RFC 9112 §9.3.2). */
size_t http_parser_feed(struct http_parser *p, const char *data, size_t len);
bool http_parser_head_done(const struct http_parser *p);

/* The n-th field line whose name matches (case-insensitive, §5.1). */
bool http_field_get(const struct http_parser *p, const char *name, unsigned n,
                    struct http_str *value);
unsigned http_field_count(const struct http_parser *p, const char *name);
/* The request line as received, when it was complete. */
bool http_request_line(const struct http_parser *p, struct http_str *line);

enum http_method http_method_from(const char *s, size_t len);
/* Case-insensitive equality of a span and a C string. */
bool http_str_ieq(struct http_str s, const char *lit);
/* Next element of a comma-separated list (RFC 9110 §5.6.1), OWS trimmed,
 * empty elements skipped; false at the end.  *pos starts at 0. */
bool http_list_next(struct http_str list, size_t *pos, struct http_str *item);

#endif
