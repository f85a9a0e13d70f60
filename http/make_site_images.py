#!/usr/bin/python3
"""make_site_images.py -- draws the bundled site's logo and favicon.

The logo is synack's handshake: three arrows between two hosts, SYN and
ACK in synack yellow (#FFD23F), SYN-ACK in white, on a dark navy tile.
The yellow is chosen to appear nowhere else on the page, so the
end-to-end test can find the logo in a browser screenshot by its pixels.

    /usr/bin/python3 http/make_site_images.py      (needs python3-pil)
"""
import os

from PIL import Image, ImageDraw

SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "site")
NAVY = (16, 24, 48, 255)
YELLOW = (255, 210, 63, 255)  # the logo's distinctive colour
WHITE = (240, 244, 248, 255)
SIZE = 192


def arrow(d, y, left_to_right, colour, w):
    x0, x1 = 46, SIZE - 46
    d.line([(x0, y), (x1, y)], fill=colour, width=w)
    tip, back = (x1, x1 - 18) if left_to_right else (x0, x0 + 18)
    d.polygon([(tip, y), (back, y - 12), (back, y + 12)], fill=colour)


def logo():
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([0, 0, SIZE - 1, SIZE - 1], radius=36, fill=NAVY)
    # Two hosts: the client on the left, synack on the right.
    d.rounded_rectangle([22, 34, 34, SIZE - 34], radius=5, fill=WHITE)
    d.rounded_rectangle([SIZE - 35, 34, SIZE - 23, SIZE - 34], radius=5, fill=YELLOW)
    arrow(d, 62, True, YELLOW, 10)    # SYN
    arrow(d, 96, False, WHITE, 10)    # SYN-ACK
    arrow(d, 130, True, YELLOW, 10)   # ACK
    return img


def main():
    img = logo()
    img.save(os.path.join(SITE, "img", "logo.png"), optimize=True)
    img.resize((48, 48), Image.LANCZOS).save(os.path.join(SITE, "favicon.ico"),
                                              sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
