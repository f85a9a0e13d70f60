/*
 * mime.h -- Content-Type from a file name's extension.
 */
#ifndef SYNACK_MIME_H
#define SYNACK_MIME_H

/* The media type for path (RFC 9110 §8.3), with "; charset=utf-8" for
 * text; application/octet-stream when the extension is unknown. */
const char *http_mime_type(const char *path);

#endif
