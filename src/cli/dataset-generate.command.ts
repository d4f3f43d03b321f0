import { Command, CommandRunner, Option } from 'nest-commander';
import path from 'node:path';
import { DatasetArgsError, generateDataset, parseGenerateArgs } from '../../seeds/dataset-generator.js';
import { CliError, printJson } from './cli-error.js';
import { progressBar } from './progress.js';

interface Options {
  out?: string;
  targets?: string;
  calls?: string;
  seed?: string;
}

@Command({
  name: 'dataset:generate',
  description: 'Write a synthetic iSpoof-shaped data set (calls.csv, contacts.csv, manifest.json)',
})
export class DatasetGenerateCommand extends CommandRunner {
  async run(_args: string[], o: Options): Promise<void> {
    const argv: string[] = [];
    if (o.out) argv.push('--out', o.out);
    if (o.targets) argv.push('--targets', o.targets);
    if (o.calls) argv.push('--calls', o.calls);
    if (o.seed) argv.push('--seed', o.seed);
    let opts;
    try {
      opts = parseGenerateArgs(argv);
    } catch (err) {
      if (err instanceof DatasetArgsError) throw new CliError(err.message);
      throw err;
    }
    const bar = progressBar('generate');
    const manifest = await generateDataset({ ...opts, outDir: path.resolve(opts.outDir), onProgress: (p) => bar.update(p.done, p.total, p.phase) });
    bar.stop();
    printJson({ outDir: path.resolve(opts.outDir), ...manifest });
  }

  @Option({ flags: '--out <dir>', description: 'output folder', required: true })
  out(v: string) {
    return v;
  }

  @Option({ flags: '--targets <n>', description: 'distinct target numbers (default 200000)' })
  targets(v: string) {
    return v;
  }

  @Option({ flags: '--calls <n>', description: 'call rows (default 10 × targets)' })
  calls(v: string) {
    return v;
  }

  @Option({ flags: '--seed <n>', description: 'random seed (default 1)' })
  seed(v: string) {
    return v;
  }
}
