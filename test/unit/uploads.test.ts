import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { StorageEngine } from 'multer';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePrivateDir, multerOptions } from '../../src/common/uploads.js';
import { loadConfig } from '../../src/config/configuration.js';

const root = mkdtempSync(path.join(tmpdir(), 'uploads-unit-'));
const mode = (p: string) => statSync(p).mode & 0o777;

describe('uploads are private to the service user', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates the folder 0700, and tightens an existing one of ours', () => {
    const fresh = path.join(root, 'fresh', 'nested');
    ensurePrivateDir(fresh);
    expect(mode(fresh)).toBe(0o700);
    const loose = path.join(root, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    chmodSync(loose, 0o755);
    ensurePrivateDir(loose);
    expect(mode(loose)).toBe(0o700);
  });

  it('refuses a folder that is a symlink (someone may have planted it in /tmp)', () => {
    const target = path.join(root, 'target');
    mkdirSync(target);
    const link = path.join(root, 'link');
    symlinkSync(target, link);
    expect(() => ensurePrivateDir(link)).toThrow(/not a directory \(a symlink or a file\)/);
  });

  it('saves each upload 0600 in a 0700 folder', async () => {
    const dir = path.join(root, 'store');
    const storage = multerOptions(loadConfig({ UPLOAD_DIR: dir })).storage as StorageEngine;
    const file = { fieldname: 'file', originalname: 'x.csv', stream: Readable.from([Buffer.from('channel,address,reason\n')]) } as unknown as Express.Multer.File;
    const saved = await new Promise<Partial<Express.Multer.File>>((resolve, reject) =>
      storage._handleFile({} as never, file, (err, info) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(info!))),
    );
    expect(path.dirname(saved.path!)).toBe(dir);
    expect(saved.size).toBe(23);
    expect(mode(saved.path!)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
  });
});
