/*
 * tun_device.h -- the wire synack talks on.  A TUN device hands the process
 * every IPv4 packet the kernel routes to the subnet, and takes back whole
 * packets the kernel then delivers to its own sockets: the kernel's TCP (curl,
 * a browser) is the peer on the other end.
 */
#ifndef SYNACK_TUN_DEVICE_H
#define SYNACK_TUN_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

/* The kernel's side of the link; synack's own address is elsewhere in the
 * subnet.  Addresses in host byte order. */
struct tun_params {
    const char *name;
    uint32_t kernel_addr;
    unsigned prefix;
    uint32_t mtu;
    /* Open with IFF_VNET_HDR: each packet read or written is led by a
     * struct virtio_net_hdr (GSO and checksum offload, --no-offload). */
    bool vnet_hdr;
};

/* Checks the subnet is not routed elsewhere, opens or creates the TUN, and
 * configures it (or accepts a TUN root already set up for us).  Returns a
 * non-blocking fd, or -1 after printing one line saying what to do. */
int tun_open(const struct tun_params *p);

#endif
