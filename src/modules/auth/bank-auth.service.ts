import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';

const KEY_PREFIX = 'obk_';

/**
 * Bank API keys: 256 random bits shown once, stored only as a SHA-256 hash. A fast hash
 * is right here (unlike passwords): the key is high-entropy, and lookup by hash keeps
 * every bank request to one indexed read.
 */
@Injectable()
export class BankAuthService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  static newApiKey(): { key: string; hash: string; prefix: string } {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    return { key, hash: hashApiKey(key), prefix: key.slice(0, KEY_PREFIX.length + 6) };
  }

  async authenticate(key: string): Promise<{ id: string; name: string } | null> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null;
    const rows: Array<{ id: string; name: string }> = await this.ds.query(
      `SELECT id, name FROM banks WHERE api_key_hash = $1 AND active`,
      [hashApiKey(key)],
    );
    return rows[0] ?? null;
  }
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
