#!/usr/bin/env python3
"""Writes a pcap of N distinct UDP flows (one packet each) for `softflowd -r`.

usage: scripts/make-flows-pcap.py [--flows 300000] [--start-offset 60] OUT.pcap

Flow i goes from 10.x.y.z (i spread over the last three octets) port 1024 + i % 60000 to 10.200.0.1:53,
with 32 bytes of payload; packets are 10 microseconds apart, starting --start-offset seconds ago, so the
flows fall inside the backend's time window. Every packet is a distinct 5-tuple: softflowd exports
exactly N flows (give it -m larger than N so none is expired early).
"""
import argparse
import struct
import time


def checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--flows", type=int, default=300_000)
    parser.add_argument("--start-offset", type=int, default=60, help="seconds before now of the first packet")
    args = parser.parse_args()

    start = int(time.time()) - args.start_offset
    payload = bytes(32)
    ethernet = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    with open(args.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(args.flows):
            src = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
            udp = struct.pack("!HHHH", 1024 + i % 60000, 53, 8 + len(payload), 0) + payload
            header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, bytes([10, 200, 0, 1]))
            header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
            frame = ethernet + header + udp
            micros = i * 10
            out.write(struct.pack("<IIII", start + micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)))
            out.write(frame)
    print(f"{args.out}: {args.flows} flows")


if __name__ == "__main__":
    main()
