/**
 * Bytes [start, end) as a string, one character per byte: Buffer#toString('latin1')
 * without its argument checks, for hot loops over ASCII.
 */
export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);
}

