import type { Channel } from '../../common/channel.js';
/** The victim filters staff use to list victims and to choose a campaign's audience. */
export interface VictimFilters {
  minLongestCallSeconds?: number | null;
  institution?: string;
  status?: string;
  channel?: Channel;
  calledAfter?: string;
  calledBefore?: string;
}

/**
 * SQL conditions for the filters, with their values appended to `params` (so they can
 * join other conditions of the same statement). `v` is the victims table's alias.
 */
export function victimFilterSql(f: VictimFilters, params: unknown[], v = 'victims'): string[] {
  const where: string[] = [];
  // null is "no filter", as the DTOs read it (IsOptional): `>= NULL` would match nobody.
  if (f.minLongestCallSeconds !== undefined && f.minLongestCallSeconds !== null) where.push(`${v}.longest_call_seconds >= $${params.push(f.minLongestCallSeconds)}`);
  if (f.institution) where.push(`${v}.institutions @> ARRAY[$${params.push(f.institution)}]::text[]`);
  if (f.status) where.push(`${v}.status = $${params.push(f.status)}`);
  if (f.channel) where.push(`${v}.channels @> ARRAY[$${params.push(f.channel)}]::text[]`);
  if (f.calledAfter) where.push(`${v}.last_call_at >= $${params.push(f.calledAfter)}`);
  if (f.calledBefore) where.push(`${v}.first_call_at < $${params.push(f.calledBefore)}`);
  return where;
}
