import { once } from 'node:events';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from '../../common/copy-binary.js';

type CopyStream = ReturnType<typeof copyFrom>;

/**
 * One table's COPY, fed rows in two formats inside the caller's transaction.
 *
 * Binary rows (the byte path, nearly every row of a call-record file) stream into a
 * COPY … (FORMAT binary). Text rows (the field path: quoted, non-ASCII or odd lines, and
 * every row of a kind without a byte path) are held, and loaded by a COPY in text
 * format between binary ones once TEXT_BATCH bytes wait, and at the end; so memory
 * stays bounded whatever the mix.
 *
 * Each COPY opens only when it has rows, so a file rejected before its first row never
 * opens one. Writes wait for Postgres to take what it has (backpressure).
 */
export class CopySink {
  static readonly TEXT_BATCH = 4 << 20;
  private open: { stream: CopyStream; done: Promise<void>; binary: boolean } | null = null;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Client,
    /** COPY target, e.g. `call_records_7 (import_no, line_no, …)`. */
    private readonly target: string,
    private readonly freeze: boolean,
  ) {}

  binary(rows: Uint8Array): Promise<void> {
    return this.serial(async () => {
      if (rows.length > 0) await this.write(await this.stream(true), rows);
    });
  }

  text(rows: Uint8Array): Promise<void> {
    return this.serial(async () => {
      if (rows.length === 0) return;
      // A copy of just these bytes: the block's buffer they sit in is much bigger, and
      // a view would keep all of it until the batch is loaded.
      this.held.push(Buffer.from(rows));
      this.heldBytes += rows.length;
      if (this.heldBytes >= CopySink.TEXT_BATCH) await this.flushText();
    });
  }

  /** Loads what is held and ends the open COPY. */
  end(): Promise<void> {
    return this.serial(async () => {
      await this.flushText();
      await this.close();
    });
  }

  /** Aborts an open COPY (CopyFail), so the connection can take a ROLLBACK. */
  abort(err: Error): void {
    this.open?.stream.destroy(err);
    this.open = null;
    this.held = [];
  }

  /** Blocks finish parsing in any order: their rows go in one at a time, never while a COPY is switching. */
  private serial(op: () => Promise<void>): Promise<void> {
    const next = this.last.then(op);
    this.last = next.catch(() => undefined);
    return next;
  }

  private async flushText(): Promise<void> {
    if (this.heldBytes === 0) return;
    const rows = this.held;
    this.held = [];
    this.heldBytes = 0;
    const stream = await this.stream(false);
    for (const r of rows) await this.write(stream, r);
  }

  private async stream(binary: boolean): Promise<CopyStream> {
    if (this.open?.binary === binary) return this.open.stream;
    await this.close();
    const options = [binary ? 'FORMAT binary' : '', this.freeze ? 'FREEZE' : ''].filter(Boolean);
    const stream = this.client.query(copyFrom(`COPY ${this.target} FROM STDIN${options.length ? ` WITH (${options.join(', ')})` : ''}`));
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
    });
    done.catch(() => undefined);
    this.open = { stream, done, binary };
    if (binary) await this.write(stream, COPY_BINARY_HEADER);
    return stream;
  }

  private async close(): Promise<void> {
    const open = this.open;
    if (!open) return;
    if (open.binary) open.stream.write(COPY_BINARY_TRAILER);
    open.stream.end();
    await open.done;
    this.open = null;
  }

  private async write(stream: CopyStream, bytes: Uint8Array): Promise<void> {
    if (!stream.write(bytes)) await Promise.race([once(stream, 'drain'), this.open!.done]);
  }
}
