import { parentPort, workerData } from 'node:worker_threads';
import { HeaderMap, loadRowRule, parseBlock, RowSource } from './block-parser.js';

/** A parse lane in a worker thread: blocks of lines in, COPY bytes and counts out. */
interface Setup {
  rows: RowSource;
  context: unknown;
  header: HeaderMap;
  key: string;
}

const setup = workerData as Setup;
const row = loadRowRule(setup.rows, setup.context);

parentPort!.on('message', (msg: { seq: number; block: Uint8Array; firstLine: number }) => {
  try {
    const result = parseBlock(row, setup.header, setup.key, msg.block, msg.firstLine);
    parentPort!.postMessage({ seq: msg.seq, result });
  } catch (err) {
    parentPort!.postMessage({ seq: msg.seq, error: (err as Error).message });
  }
});
