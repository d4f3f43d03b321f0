import { expect } from 'vitest';
import type { TestApp } from './test-app.js';

/**
 * Every page of a cursor-paginated GET (`{items, nextCursor}`), checking that no page is
 * longer than asked and that no item repeats across pages.
 */
export async function allPages<T extends { id: string }>(t: TestApp, path: string, query: Record<string, string | number>, token: string, limit = 500): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const res: { body: { items: T[]; nextCursor: string | null } } = await t
      .http()
      .get(path)
      .query({ ...query, limit, ...(cursor ? { cursor } : {}) })
      .set({ Authorization: `Bearer ${token}` })
      .expect(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (!cursor) break;
  }
  expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
  return items;
}
