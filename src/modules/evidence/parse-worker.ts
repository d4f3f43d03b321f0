import { parentPort } from 'node:worker_threads';
import { loadRowRule, parseBlock, RowRule } from './block-parser.js';
import type { LaneSetup, ParseWorkerMessage } from './parse-lanes.js';

/**
 * A parse lane in a worker thread of the process's pool: imports are opened with their
 * setup, their blocks of lines come in, COPY bytes and counts go out, and each import
 * is closed when it ends.
 */
const imports = new Map<number, { row: RowRule; setup: LaneSetup }>();

parentPort!.on('message', (msg: ParseWorkerMessage) => {
  if ('open' in msg) {
    imports.set(msg.open, { row: loadRowRule(msg.setup.rows, msg.setup.context), setup: msg.setup });
    return;
  }
  if ('close' in msg) {
    imports.delete(msg.close);
    return;
  }
  const open = imports.get(msg.parse);
  if (!open) return; // closed meanwhile (a failed import): nobody waits for it
  try {
    const result = parseBlock(open.row, open.setup.header, open.setup.key, msg.block, msg.firstLine);
    parentPort!.postMessage({ import: msg.parse, seq: msg.seq, result });
  } catch (err) {
    parentPort!.postMessage({ import: msg.parse, seq: msg.seq, error: (err as Error).message });
  }
});
