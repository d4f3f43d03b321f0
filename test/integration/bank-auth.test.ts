import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TestApp } from '../support/test-app.js';

describe('bank API keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('authenticates a bank by its key and shows it only its own profile', async () => {
    const a = await t.bank('Alpha Bank');
    const b = await t.bank('Beta Bank');
    const resA = await t.http().get('/api/bank/profile').set('authorization', `Bearer ${a.apiKey}`).expect(200);
    const resB = await t.http().get('/api/bank/profile').set('authorization', `Bearer ${b.apiKey}`).expect(200);
    expect(resA.body).toMatchObject({ id: a.id, name: 'Alpha Bank' });
    expect(resB.body).toMatchObject({ id: b.id, name: 'Beta Bank' });
    expect(JSON.stringify(resA.body)).not.toContain(a.apiKey);
  });

  it('stores only a hash of the key', async () => {
    const a = await t.bank();
    const [row] = await t.ds.query(`SELECT api_key_hash, api_key_prefix FROM banks WHERE id = $1`, [a.id]);
    expect(row.api_key_hash).not.toContain(a.apiKey);
    expect(row.api_key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.apiKey.startsWith(row.api_key_prefix)).toBe(true);
  });

  it('refuses a deactivated bank, a tampered key and a malformed header', async () => {
    const a = await t.bank();
    await t.http().get('/api/bank/profile').set('authorization', `Bearer ${a.apiKey}x`).expect(401);
    await t.http().get('/api/bank/profile').set('authorization', a.apiKey).expect(401);
    await t.ds.query(`UPDATE banks SET active = false WHERE id = $1`, [a.id]);
    await t.http().get('/api/bank/profile').set('authorization', `Bearer ${a.apiKey}`).expect(401);
  });

  it('refuses a duplicate bank name, whatever its case', async () => {
    await t.bank('Gamma Bank');
    await expect(t.bank('GAMMA BANK')).rejects.toThrow(/already exists/);
  });
});
