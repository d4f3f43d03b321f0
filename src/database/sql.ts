import type { DataSource, EntityManager } from 'typeorm';

type Runner = DataSource | EntityManager;

/**
 * Anything that runs a parameterised statement: a DataSource, a transaction's
 * EntityManager or a raw pg Client (imports and matching hold their own connections).
 */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Runs SQL and returns its rows whatever the statement: TypeORM's postgres driver
 * answers UPDATE/DELETE with [rows, count] but SELECT/INSERT with rows.
 */
export async function queryRows<T>(runner: Runner, sql: string, params: unknown[] = []): Promise<T[]> {
  const result: unknown = await runner.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

export async function queryOne<T>(runner: Runner, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await queryRows<T>(runner, sql, params))[0];
}
