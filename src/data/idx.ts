/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * number `0x00 0x00 TYPE NDIMS`, NDIMS big-endian uint32 dimension sizes, then the values,
 * big-endian, row-major. Pure: bytes in, a Table out.
 */
import { TextCells, type Table } from "./table.ts";

/** Type codes: element size in bytes and reader. */
const TYPES: Record<number, { name: string; size: number; read: (v: DataView, at: number) => number }> = {
  0x08: { name: "unsigned byte", size: 1, read: (v, at) => v.getUint8(at) },
  0x09: { name: "signed byte", size: 1, read: (v, at) => v.getInt8(at) },
  0x0b: { name: "short", size: 2, read: (v, at) => v.getInt16(at) },
  0x0c: { name: "int", size: 4, read: (v, at) => v.getInt32(at) },
  0x0d: { name: "float", size: 4, read: (v, at) => v.getFloat32(at) },
  0x0e: { name: "double", size: 8, read: (v, at) => v.getFloat64(at) },
};

export type IdxProblem =
  | { kind: "invalid"; reason: string }
  | { kind: "truncated"; expected: number; found: number; what: string };

const hex = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, "0")}`;

/** Parses an IDX file into a table of one row per item (the first dimension). Never throws. */
export function parseIdx(bytes: Uint8Array, path: string): { table: Table } | { problem: IdxProblem } {
  if (bytes.length < 4) return { problem: { kind: "truncated", what: "header", expected: 4, found: bytes.length } };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const type = bytes[2];
  const ndims = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0)
    return { problem: { kind: "invalid", reason: `bad magic number ${hex(magic, 8)}: an IDX file starts with two zero bytes, a type code and the number of dimensions (0x00000803 for images, 0x00000801 for labels)` } };
  const t = TYPES[type];
  if (!t) return { problem: { kind: "invalid", reason: `unknown element type code ${hex(type, 2)} in magic number ${hex(magic, 8)} (known: 0x08 unsigned byte, 0x09 signed byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)` } };
  if (ndims === 0) return { problem: { kind: "invalid", reason: `magic number ${hex(magic, 8)} declares no dimensions` } };
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) return { problem: { kind: "truncated", what: "header", expected: headerBytes, found: bytes.length } };
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = count * t.size;
  const found = bytes.length - headerBytes;
  if (found < expected) return { problem: { kind: "truncated", what: `data for ${dims.join(" × ")} ${t.name}s`, expected, found } };
  if (found > expected) return { problem: { kind: "invalid", reason: `${found - expected} bytes follow the ${dims.join(" × ")} values the header declares` } };
  const n = dims[0];
  const width = n === 0 ? dims.slice(1).reduce((a, b) => a * b, 1) : count / n;
  // Unsigned bytes (images, labels) are used in place; float32 holds signed bytes, shorts and floats
  // exactly at half the memory of float64.
  let values: Uint8Array | Float32Array | Float64Array;
  if (type === 0x08) values = bytes.subarray(headerBytes, headerBytes + count);
  else {
    values = t.size <= 2 || type === 0x0d ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) values[i] = t.read(view, headerBytes + i * t.size);
  }
  return { table: { path, width, n, values, text: new TextCells(), markers: new Map(), itemShape: dims.slice(1) } };
}
