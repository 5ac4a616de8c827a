# Regenerates the binary files of the broken-data corpus (python3 make-binary.py in this folder).
import gzip
import struct

def idx(dtype, dims, payload):
    return bytes([0, 0, dtype, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload

def write(name, data):
    with open(name, "wb") as f:
        f.write(data)

imgs = idx(8, [4, 2, 2], bytes(range(16)))  # four 2×2 "images"
write("images_ok.idx", imgs)
write("labels_ok.idx", idx(8, [4], bytes([0, 1, 2, 1])))
write("labels_out_of_range.idx", idx(8, [4], bytes([0, 1, 12, 1])))  # 12 with class(10)
write("labels_three.idx", idx(8, [3], bytes([0, 1, 2])))  # one label short
write("bad_magic.idx", b"\x12\x34" + imgs[2:])  # magic must start with two zero bytes
write("bad_type.idx", bytes([0, 0, 0x07, 3]) + imgs[4:])  # 0x07 is no IDX type code
write("truncated.idx", imgs[:-5])  # 5 of 16 pixel bytes missing
write("truncated_header.idx", imgs[:9])  # cut inside the dimension sizes

# A gzip stream cut after 60 bytes. mtime=0 keeps the bytes the same on every run.
rows = b"a,b,y\n" + b"".join(b"%d,%d,%d\n" % (i, i, i % 2) for i in range(200))
write("truncated.csv.gz", gzip.compress(rows, mtime=0)[:60])
