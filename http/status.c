/*
 * status.c -- reason phrases (RFC 9110 §15) and the bodies of the errors
 * synack answers itself.  Each body is a complete, tiny HTML page that
 * names what failed, why, and what the client can do about it; a 404 of
 * the site itself is the styled http/site/404.html instead (server.c).
 */
#include <stddef.h>

#include "http/status.h"

#define PAGE(code, title, text)                                                    \
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" code \
    " " title "</title></head>\n<body><h1>" code " " title "</h1>\n<p>" text        \
    "</p>\n<hr><p>synack</p></body></html>\n"

static const struct {
    int code;
    const char *reason;
    const char *body;
} statuses[] = {
    {200, "OK", NULL},
    {206, "Partial Content", NULL},
    {301, "Moved Permanently",
     PAGE("301", "Moved Permanently", "This is a directory: its address ends with a slash "
                                      "(see the Location header).")},
    {304, "Not Modified", NULL},
    {400, "Bad Request",
     PAGE("400", "Bad Request", "The request could not be parsed as HTTP/1.1 (RFC 9112). "
                                "Check the request line, the header fields and the framing.")},
    {404, "Not Found",
     PAGE("404", "Not Found", "Nothing is served at this path. Check the URL.")},
    {405, "Method Not Allowed",
     PAGE("405", "Method Not Allowed", "This server only reads files: use GET, HEAD or "
                                       "OPTIONS (see the Allow header).")},
    {408, "Request Timeout",
     PAGE("408", "Request Timeout", "The request was not completed in time "
                                    "(--header-timeout, --idle-timeout). Send it again.")},
    {412, "Precondition Failed",
     PAGE("412", "Precondition Failed", "If-Match or If-Unmodified-Since did not hold for "
                                        "the current file.")},
    {413, "Content Too Large",
     PAGE("413", "Content Too Large", "The request content is larger than this server "
                                      "accepts (--max-body).")},
    {414, "URI Too Long",
     PAGE("414", "URI Too Long", "The request line is longer than this server accepts "
                                 "(--max-request-line). Use a shorter URL.")},
    {416, "Range Not Satisfiable",
     PAGE("416", "Range Not Satisfiable", "The requested byte range lies beyond the end of "
                                          "the file; Content-Range gives its length.")},
    {431, "Request Header Fields Too Large",
     PAGE("431", "Request Header Fields Too Large", "The header section is larger than "
          "this server accepts (--max-header-bytes, --max-headers). Send fewer or "
          "smaller fields, e.g. fewer cookies.")},
    {500, "Internal Server Error",
     PAGE("500", "Internal Server Error", "The server could not read the file. Its log "
                                          "says why.")},
    {501, "Not Implemented",
     PAGE("501", "Not Implemented", "This server does not implement that method or "
                                    "transfer coding.")},
    {505, "HTTP Version Not Supported",
     PAGE("505", "HTTP Version Not Supported", "This server speaks HTTP/1.0 and HTTP/1.1.")},
};

const char *http_reason(int status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].code == status)
            return statuses[i].reason;
    return "Unknown";
}

const char *http_error_body(int status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].code == status)
            return statuses[i].body;
    return NULL;
}
