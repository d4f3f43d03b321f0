import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
const NODE_ARGS = ['-r', './src/register.cjs'];

/** Runs the CLI as a user would (`npm run cli -- …`), returning its exit code and output. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000, input?: string) {
  const child = spawn(process.execPath, [...NODE_ARGS, 'src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts the server in a separate process (e.g. APP_ROLE=worker) and waits until it listens. */
export async function startProcess(env: Record<string, string>, readyPattern = /listening on/): Promise<{
  child: ChildProcess;
  output: () => string;
  /** Sends the signal and resolves with how the process ended. */
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (readyPattern.test(out)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`process exited with ${code} before it was ready:\n${out}`)));
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not ready in 60 s:\n${out}`)), 60_000).unref());
  try {
    await Promise.race([ready, timeout]);
  } catch (err) {
    // Never leave a half-started server behind: it would keep working on the test database.
    child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
      child.kill(signal);
      const [code, sig] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      return { code, signal: sig };
    },
  };
}
