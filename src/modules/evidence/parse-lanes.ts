import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BlockResult, HeaderMap, loadRowRule, parseBlock, RowRule, RowSource } from './block-parser.js';

export interface LaneSetup {
  rows: RowSource;
  context: unknown;
  header: HeaderMap;
  key: string;
}

/** What a parse worker is sent: an import's setup, a block of it, or its end. */
export type ParseWorkerMessage =
  | { open: number; setup: LaneSetup }
  | { parse: number; seq: number; block: Uint8Array; firstLine: number }
  | { close: number };

type Pending = { resolve: (r: BlockResult) => void; reject: (e: Error) => void };

/**
 * Parsing is the import's bottleneck (Postgres takes rows faster than one thread can
 * make them), so blocks of lines are spread over lanes: the calling thread plus worker
 * threads. The row rule is loaded in each lane from its module, so specs stay plain.
 *
 * The worker threads belong to the process, not to one import: they start with the
 * first import that needs them and serve every later one (each import is opened and
 * closed in them by its own number). Starting threads per import cost their start-up
 * each time, and a thread that had loaded the TypeScript hook and ended crashed the
 * next one started in the same Vitest fork.
 */
export class ParseLanes {
  private static nextImport = 1;
  private next = 0;
  private seq = 0;
  private closed = false;
  private readonly waiting = new Map<number, Pending>();

  private constructor(
    private readonly id: number,
    private readonly inline: RowRule,
    private readonly setup: LaneSetup,
    private readonly workers: PooledWorker[],
  ) {}

  static create(setup: LaneSetup, workerCount: number): ParseLanes {
    const inline = loadRowRule(setup.rows, setup.context);
    // Functions cannot cross to a worker: it loads the factory by module path instead.
    const sendable = { ...setup, rows: { module: setup.rows.module, factory: setup.rows.factory } };
    const lanes = new ParseLanes(ParseLanes.nextImport++, inline, setup, WORKERS.take(workerCount));
    for (const w of lanes.workers) w.open(lanes.id, sendable, lanes);
    return lanes;
  }

  get lanes(): number {
    return this.workers.length + 1;
  }

  /** Parses a block on the next lane; the inline lane works synchronously, right now. */
  parse(block: Buffer, firstLine: number): Promise<BlockResult> {
    if (this.closed) return Promise.reject(new Error('parse lanes closed'));
    const lane = this.next++ % this.lanes;
    if (lane === this.workers.length) {
      try {
        return Promise.resolve(parseBlock(this.inline, this.setup.header, this.setup.key, block, firstLine));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    const seq = this.seq++;
    return new Promise<BlockResult>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.workers[lane].post({ parse: this.id, seq, block, firstLine });
    });
  }

  /** Ends this import in the workers (they stay for the next one); what is still in flight is failed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) w.closeImport(this.id);
    this.fail(new Error('parse lanes closed'));
  }

  /** A worker's answer for this import. */
  answer(msg: { seq: number; result?: BlockResult; error?: string }): void {
    const p = this.waiting.get(msg.seq);
    if (!p) return;
    this.waiting.delete(msg.seq);
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve(msg.result!);
  }

  fail(err: Error): void {
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }
}

/** One worker thread of the process's pool, and the imports open in it. */
class PooledWorker {
  private readonly imports = new Map<number, ParseLanes>();

  constructor(
    private readonly worker: Worker,
    onGone: (w: PooledWorker) => void,
  ) {
    worker.on('message', (msg: { import: number; seq: number; result?: BlockResult; error?: string }) => this.imports.get(msg.import)?.answer(msg));
    const gone = (err: Error) => {
      onGone(this);
      for (const lanes of this.imports.values()) lanes.fail(err);
      this.imports.clear();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`parse worker exited (${code})`)));
    // Between imports the pool keeps no process alive (a CLI run ends when its work
    // does). After the listeners: adding a 'message' listener refs the thread again.
    worker.unref();
  }

  open(id: number, setup: LaneSetup, lanes: ParseLanes): void {
    // While an import is open here, its answers are awaited: keep the process up.
    if (this.imports.size === 0) this.worker.ref();
    this.imports.set(id, lanes);
    this.post({ open: id, setup });
  }

  closeImport(id: number): void {
    this.imports.delete(id);
    this.post({ close: id });
    if (this.imports.size === 0) this.worker.unref();
  }

  post(msg: ParseWorkerMessage): void {
    this.worker.postMessage(msg);
  }
}

/** The process's parse workers, started as imports first need them. */
const WORKERS = {
  pool: [] as PooledWorker[],
  take(count: number): PooledWorker[] {
    while (this.pool.length < count) {
      const w: PooledWorker = new PooledWorker(spawnWorker(), (gone) => {
        this.pool = this.pool.filter((p) => p !== gone);
      });
      this.pool.push(w);
    }
    return this.pool.slice(0, count);
  },
};

function spawnWorker(): Worker {
  const fromSource = __filename.endsWith('.ts');
  const file = path.join(__dirname, fromSource ? 'parse-worker.ts' : 'parse-worker.js');
  // Worker threads only start .js files: from sources, load the TypeScript hook first.
  const code = fromSource
    ? `require(${JSON.stringify(path.resolve(__dirname, '../../register.cjs'))}); require(${JSON.stringify(file)});`
    : `require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 } });
}
