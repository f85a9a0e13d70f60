/*
 * fuzz_input.c -- libFuzzer target for the packet input path.
 *
 * An input is a script of records, each: 2-byte length, 1-byte time step
 * (50 ms units, so timers fire), 1-byte mode, then the packet.  All records
 * go into one stack with the placeholder app listening on port 80, so the
 * fuzzer reaches states deep in the connection lifecycle, not only the
 * parsers.  Two mode bits let it past the walls random bytes rarely climb:
 *   bit 0: fix the IPv4 and TCP checksums before input;
 *   bit 1: make the TCP ack field relative to the ISN of the last SYN-ACK
 *          the stack sent (ack += that ISN), as a real peer would.
 * Both edits happen here in the harness; the stack sees ordinary packets.
 * Run with `make fuzz` (FUZZ_SECONDS=180 by default).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/placeholder_app.h"
#include "stack/checksum.h"
#include "stack/ipv4.h"
#include "stack/stack.h"
#include "stack/tcp_header.h"

#define FUZZ_MAX_PACKET 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t last_server_isn;

/* Remembers the ISN of each SYN-ACK the stack sends. */
static void watch_output(void *ctx, const struct slice *parts, int n,
                         const struct stack_offload *off)
{
    (void)off;  /* offload is off in these tests */
    (void)ctx;
    (void)n;
    const uint8_t *p = parts[0].data;
    if (parts[0].len >= IPV4_HDR_LEN + TCP_HDR_LEN && p[9] == IPPROTO_TCP_NUM &&
        (p[IPV4_HDR_LEN + 13] & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        last_server_isn = load_be32(p + IPV4_HDR_LEN + 4);
}

static void fix_packet(uint8_t *p, size_t len, uint8_t mode)
{
    if (len < IPV4_HDR_LEN || (p[0] & 0x0f) != 5)
        return;
    uint32_t tcp_len = (uint32_t)len - IPV4_HDR_LEN;
    uint8_t *tcp = p + IPV4_HDR_LEN;
    bool is_tcp = p[9] == IPPROTO_TCP_NUM && tcp_len >= TCP_HDR_LEN;
    if ((mode & 2) && is_tcp)
        store_be32(tcp + 8, load_be32(tcp + 8) + last_server_isn);
    if (!(mode & 1))
        return;
    store_be16(p + 2, (uint16_t)len);
    store_be16(p + 10, 0);
    store_be16(p + 10, csum_buffer(p, IPV4_HDR_LEN));
    if (is_tcp) {
        store_be16(tcp + 16, 0);
        uint32_t sum = csum_pseudo(load_be32(p + 12), load_be32(p + 16), 6, (uint16_t)tcp_len);
        store_be16(tcp + 16, csum_fold(csum_add(sum, tcp, tcp_len)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stack_config cfg;
    stack_config_defaults(&cfg);
    cfg.max_conns = 64;
    cfg.backlog = 8;
    cfg.msl = 2 * USEC_PER_SEC;
    cfg.rcv_buf = 4096;
    cfg.snd_buf = 4096;
    struct stack_io io = { .output = watch_output, .trace = NULL, .ctx = NULL };
    struct stack *st = stack_new(&cfg, &io);
    if (!st)
        return 0;
    placeholder_app_start(st, 80);
    last_server_isn = 0;
    usec_t now = 1;
    uint8_t pkt[FUZZ_MAX_PACKET];
    while (size >= 4) {
        size_t len = (size_t)(data[0] << 8 | data[1]);
        now += (usec_t)data[2] * 50000;
        uint8_t mode = data[3];
        data += 4;
        size -= 4;
        if (len > size)
            len = size;
        if (len > sizeof pkt)
            len = sizeof pkt;
        memcpy(pkt, data, len);
        fix_packet(pkt, len, mode);
        stack_tick(st, now);
        stack_input(st, pkt, len, now);
        data += len;
        size -= len;
    }
    stack_tick(st, now + 600 * USEC_PER_SEC);  /* every timer runs out */
    stack_free(st);
    return 0;
}
