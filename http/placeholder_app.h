/*
 * placeholder_app.h -- a stand-in application until the HTTP server lands:
 * it reads a request up to the blank line that ends its header section and
 * answers every request with the same small HTTP/1.1 200 response, then
 * closes (so the server side walks the FIN-WAIT-1 path).
 */
#ifndef SYNACK_PLACEHOLDER_APP_H
#define SYNACK_PLACEHOLDER_APP_H

#include <stdint.h>

struct stack;

/* Listens on port; 0 on success, -1 if the port cannot be taken. */
int placeholder_app_start(struct stack *st, uint16_t port);

#endif
