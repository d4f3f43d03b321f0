/**
 * Postgres COPY … (FORMAT binary), written a field at a time into a buffer. Every
 * writer takes the position to write at and returns the position after what it wrote.
 * Layout (Postgres docs, "COPY: Binary Format"): a header, then per row a 16-bit field
 * count and, per field, a 32-bit length (-1 for NULL) and the value in the type's binary
 * form (big-endian integers; timestamptz as 64-bit microseconds since 2000-01-01 UTC);
 * a 16-bit -1 ends the data.
 */
export const COPY_BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

export function writeInt16(dst: Uint8Array, p: number, v: number): number {
  dst[p] = (v >>> 8) & 0xff;
  dst[p + 1] = v & 0xff;
  return p + 2;
}

export function writeInt32(dst: Uint8Array, p: number, v: number): number {
  dst[p] = (v >>> 24) & 0xff;
  dst[p + 1] = (v >>> 16) & 0xff;
  dst[p + 2] = (v >>> 8) & 0xff;
  dst[p + 3] = v & 0xff;
  return p + 4;
}

/** A NULL field. */
export function writeNullField(dst: Uint8Array, p: number): number {
  return writeInt32(dst, p, -1);
}

export function writeInt2Field(dst: Uint8Array, p: number, v: number): number {
  return writeInt16(dst, writeInt32(dst, p, 2), v);
}

export function writeInt4Field(dst: Uint8Array, p: number, v: number): number {
  return writeInt32(dst, writeInt32(dst, p, 4), v);
}

/** An int8 or timestamptz field: v a whole number of at most 53 bits, negative or not. */
export function writeInt8Field(dst: Uint8Array, p: number, v: number): number {
  const hi = Math.floor(v / 0x1_0000_0000);
  const lo = v - hi * 0x1_0000_0000;
  return writeInt32(dst, writeInt32(dst, writeInt32(dst, p, 8), hi), lo);
}

/** A text field from bytes [s, e) of src (UTF-8, as Postgres expects). */
export function writeBytesField(dst: Uint8Array, p: number, src: Uint8Array, s: number, e: number): number {
  p = writeInt32(dst, p, e - s);
  for (let i = s; i < e; i++) dst[p++] = src[i]!;
  return p;
}

/** A text field from an ASCII string. */
export function writeAsciiField(dst: Uint8Array, p: number, value: string): number {
  p = writeInt32(dst, p, value.length);
  for (let i = 0; i < value.length; i++) dst[p++] = value.charCodeAt(i);
  return p;
}
