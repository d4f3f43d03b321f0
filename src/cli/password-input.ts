import { CliError } from './cli-error.js';

/**
 * Where a command gets a password: `--password` (still accepted for old scripts, with a
 * warning: it shows in `ps` and stays in shell history), else OUTREACH_PASSWORD, else
 * stdin when it is not a terminal. The trailing newline of `echo` is not part of it.
 */
export async function readPassword(flag: string | undefined, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (flag !== undefined) {
    process.stderr.write(
      'warning: --password is visible to other users in `ps` and stays in your shell history; pipe the password on stdin or set OUTREACH_PASSWORD instead\n',
    );
    return flag;
  }
  const fromEnv = process.env.OUTREACH_PASSWORD;
  if (fromEnv) return fromEnv;
  if (stdin.isTTY) {
    throw new CliError('No password given: pipe it on stdin (for example `read -rs P; printf %s "$P" | npm run cli -- …`) or set OUTREACH_PASSWORD');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password === '') throw new CliError('No password given: pipe it on stdin or set OUTREACH_PASSWORD');
  return password;
}
