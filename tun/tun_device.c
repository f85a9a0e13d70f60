/*
 * tun_device.c -- opens the TUN and gives its kernel side an address, so the
 * kernel routes the subnet into synackd.  This is the only code that changes
 * host network state, so it first makes sure it cannot disturb it: a subnet
 * the host already routes elsewhere is refused, never taken over.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tun/cli.h"
#include "tun/tun_device.h"

#define ROUTE_FILE "/proc/net/route"

/* Two prefixes overlap when they agree on the bits of the shorter mask. */
static bool subnets_overlap(uint32_t a, uint32_t amask, uint32_t b, uint32_t bmask) {
    return ((a ^ b) & amask & bmask) == 0;
}

/* A default route (mask 0) overlaps everything and is no conflict: a more
 * specific route for our subnet is exactly what adding the TUN creates.  Any
 * other route covering or inside the subnet on another interface would have
 * its traffic diverted into synackd. */
static int check_routes(const struct tun_params *p) {
    char line[256], iface[IFNAMSIZ + 1], ours[IPV4_STR_LEN], theirs[IPV4_STR_LEN];
    uint32_t mask = prefix_mask(p->prefix), dest, rmask;
    unsigned int d, g, flags, mk;
    FILE *f = fopen(ROUTE_FILE, "r");

    if (f == NULL) {
        fprintf(stderr, "synackd: cannot read " ROUTE_FILE ": %s (mount /proc: "
                "synackd checks it so it never disturbs the host's routes)\n",
                strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        /* Iface Destination Gateway Flags RefCnt Use Metric Mask ...; the
         * addresses are network-order words printed as native hex. */
        if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", iface, &d, &g, &flags, &mk) != 5)
            continue; /* the header line */
        dest = ntohl(d);
        rmask = ntohl(mk);
        if (rmask == 0 || strcmp(iface, p->name) == 0 ||
            !subnets_overlap(dest, rmask, p->kernel_addr, mask))
            continue;
        fclose(f);
        fprintf(stderr, "synackd: --tun-addr %s/%u overlaps the route to %s/%d via "
                "%s (pick a free subnet, e.g. --tun-addr 10.200.0.1/24 "
                "--addr 10.200.0.2)\n", ipv4_str(p->kernel_addr, ours), p->prefix,
                ipv4_str(dest, theirs), __builtin_popcount(rmask), iface);
        return -1;
    }
    fclose(f);
    return 0;
}

static const char *attach_hint(int err, const char *name, char *buf, size_t cap) {
    switch (err) {
    case ENOENT:
    case ENODEV:
        return "load the tun module: modprobe tun";
    case EACCES:
    case EPERM:
        snprintf(buf, cap, "run as root, or have root create it for you: "
                 "ip tuntap add %s mode tun user %u", name, (unsigned)getuid());
        return buf;
    case EBUSY:
        return "another process has it open; stop it or pick another --tun";
    case EINVAL:
        return "an interface of that name exists and is not a TUN; pick another --tun";
    default:
        return "check that the kernel supports TUN devices";
    }
}

/* IFF_NO_PI: the fd carries IPv4 packets with no 4-byte protocol prefix.
 * IFF_VNET_HDR (when asked) puts a struct virtio_net_hdr before each one,
 * through which we hand the kernel GSO super-segments and partial
 * checksums; no TUNSETOFFLOAD, so what the kernel sends us is always whole
 * segments with complete checksums. */
static int tun_attach(const char *name, bool vnet_hdr) {
    struct ifreq ifr;
    char hint[160];
    int fd, err;

    if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0) {
        err = errno;
        fprintf(stderr, "synackd: cannot open /dev/net/tun: %s (%s)\n", strerror(err),
                err == ENOENT ? attach_hint(err, name, hint, sizeof(hint))
                                  : "run as root or grant CAP_NET_ADMIN");
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        err = errno;
        fprintf(stderr, "synackd: cannot attach to TUN %s: %s (%s)\n", name,
                strerror(err), attach_hint(err, name, hint, sizeof(hint)));
        close(fd);
        return -1;
    }
    /* Never block: the event loop drains until EAGAIN. */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        fprintf(stderr, "synackd: cannot make TUN %s non-blocking: %s\n", name,
                strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void ifr_init(struct ifreq *ifr, const char *name) {
    memset(ifr, 0, sizeof(*ifr));
    snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
}

/* ifr_addr is a plain struct sockaddr: copy rather than cast-and-write. */
static void ifr_set_in(struct ifreq *ifr, const char *name, uint32_t addr) {
    struct sockaddr_in sin;

    ifr_init(ifr, name);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    memcpy(&ifr->ifr_addr, &sin, sizeof(sin));
}

static uint32_t ifr_get_in(const struct ifreq *ifr) {
    struct sockaddr_in sin;

    memcpy(&sin, &ifr->ifr_addr, sizeof(sin));
    return ntohl(sin.sin_addr.s_addr);
}

/* Returns 0, or -1 with errno set and *step naming the ioctl that failed. */
static int tun_configure(int s, const struct tun_params *p, const char **step) {
    struct ifreq ifr;

    ifr_set_in(&ifr, p->name, p->kernel_addr);
    *step = "set its address";
    if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
        return -1;
    ifr_set_in(&ifr, p->name, prefix_mask(p->prefix));
    *step = "set its netmask";
    if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
        return -1;
    ifr_init(&ifr, p->name);
    ifr.ifr_mtu = (int)p->mtu;
    *step = "set its MTU";
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
        return -1;
    ifr_init(&ifr, p->name);
    *step = "bring it up";
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP;
    return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* An unprivileged user may only use a TUN root prepared: accept it when it is
 * up with the address and netmask we would have given it. */
static bool tun_preconfigured(int s, const struct tun_params *p) {
    struct ifreq ifr;

    ifr_init(&ifr, p->name);
    if (ioctl(s, SIOCGIFADDR, &ifr) < 0 || ifr_get_in(&ifr) != p->kernel_addr)
        return false;
    ifr_init(&ifr, p->name);
    if (ioctl(s, SIOCGIFNETMASK, &ifr) < 0 || ifr_get_in(&ifr) != prefix_mask(p->prefix))
        return false;
    ifr_init(&ifr, p->name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP))
        return false;
    ifr_init(&ifr, p->name);
    if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && (uint32_t)ifr.ifr_mtu != p->mtu)
        fprintf(stderr, "synackd: note: %s has MTU %d, not --mtu %u; the kernel "
                "side will use %d\n", p->name, ifr.ifr_mtu, p->mtu, ifr.ifr_mtu);
    return true;
}

static int configure_or_accept(const struct tun_params *p) {
    char a[IPV4_STR_LEN];
    const char *step = "open a configuration socket";
    int s, err = 0;

    if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
        tun_configure(s, p, &step) < 0)
        err = errno;
    if (err == EPERM && tun_preconfigured(s, p))
        err = 0;
    if (s >= 0)
        close(s);
    if (err == 0)
        return 0;
    ipv4_str(p->kernel_addr, a);
    if (err == EPERM || err == EACCES)
        fprintf(stderr, "synackd: cannot configure %s: %s (as root run: ip addr add "
                "%s/%u dev %s; ip link set %s mtu %u up)\n", p->name, strerror(err),
                a, p->prefix, p->name, p->name, p->mtu);
    else
        fprintf(stderr, "synackd: cannot %s of %s: %s (check: ip addr show dev %s)\n",
                step, p->name, strerror(err), p->name);
    return -1;
}

int tun_open(const struct tun_params *p) {
    int fd;

    if (check_routes(p) < 0)
        return -1;
    if ((fd = tun_attach(p->name, p->vnet_hdr)) < 0)
        return -1;
    if (configure_or_accept(p) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}
