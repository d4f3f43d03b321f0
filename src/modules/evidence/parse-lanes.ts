import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BlockResult, HeaderMap, loadRowRule, parseBlock, RowRule, RowSource } from './block-parser.js';

export interface LaneSetup {
  rows: RowSource;
  context: unknown;
  header: HeaderMap;
  key: string;
}

/**
 * Parsing is the import's bottleneck (Postgres takes rows faster than one thread can
 * make them), so blocks of lines are spread over lanes: the calling thread plus worker
 * threads. The row rule is loaded in each lane from its module, so specs stay plain.
 */
export class ParseLanes {
  private next = 0;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (r: BlockResult) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly inline: RowRule,
    private readonly setup: LaneSetup,
    private readonly workers: Worker[],
  ) {
    for (const w of workers) {
      w.on('message', (msg: { seq: number; result?: BlockResult; error?: string }) => {
        const p = this.waiting.get(msg.seq);
        if (!p) return;
        this.waiting.delete(msg.seq);
        if (msg.error !== undefined) p.reject(new Error(msg.error));
        else p.resolve(msg.result!);
      });
      w.on('error', (err) => this.failAll(err));
    }
  }

  static create(setup: LaneSetup, workerCount: number): ParseLanes {
    const inline = loadRowRule(setup.rows, setup.context);
    // Functions cannot cross to a worker: it loads the factory by module path instead.
    const sendable = { ...setup, rows: { module: setup.rows.module, factory: setup.rows.factory } };
    const workers = Array.from({ length: workerCount }, () => spawnWorker(sendable));
    return new ParseLanes(inline, setup, workers);
  }

  get lanes(): number {
    return this.workers.length + 1;
  }

  /** Parses a block on the next lane; the inline lane works synchronously, right now. */
  parse(block: Buffer, firstLine: number): Promise<BlockResult> {
    const lane = this.next++ % this.lanes;
    if (lane === this.workers.length) {
      try {
        return Promise.resolve(parseBlock(this.inline, this.setup.header, this.setup.key, block, firstLine));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const seq = this.seq++;
    return new Promise<BlockResult>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.workers[lane]!.postMessage({ seq, block, firstLine });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new Error('parse lanes closed'));
  }

  private failAll(err: Error): void {
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }
}

function spawnWorker(setup: LaneSetup): Worker {
  const fromSource = __filename.endsWith('.ts');
  const file = path.join(__dirname, fromSource ? 'parse-worker.ts' : 'parse-worker.js');
  // Worker threads only start .js files: from sources, load the TypeScript hook first.
  const code = fromSource
    ? `require(${JSON.stringify(path.resolve(__dirname, '../../register.cjs'))}); require(${JSON.stringify(file)});`
    : `require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, workerData: setup, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 } });
}
