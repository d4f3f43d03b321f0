import { BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { isBigintId, isInt4, isRfc3339DateTime, isUuid } from './input-rules.js';

/** The cursor and page size every cursor-paginated list takes. */
export class PageQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be a whole number from 1 to 500' }) @Max(500, { message: 'limit must be a whole number from 1 to 500' })
  limit?: number;
}

/** A page's cursor: the sort key of its last item, opaque to the caller. */
export function encodeCursor(key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key a cursor carries; the caller checks each part and calls invalidCursor() if one is wrong. */
export function decodeCursor(cursor: string): unknown[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(key)) throw invalidCursor();
  return key;
}

/**
 * What each part of a sort key may be: every part is range-checked here, because a
 * cursor is caller input like any other and Postgres answers an out-of-range value
 * (`[1e300, …]`, 36 dashes for a uuid, `2024-W01-1` for a time) with an error, not a row.
 * - `int4`: a whole number an integer column holds;
 * - `uuid`: a canonical uuid;
 * - `timestamp`: an RFC 3339 date-time with an offset (what toISOString writes);
 * - `id8`: a positive bigint id, as a string of at most 18 digits.
 */
export type CursorPart = 'int4' | 'uuid' | 'timestamp' | 'id8';
type CursorValue<P extends CursorPart> = P extends 'int4' ? number : string;

const CURSOR_CHECKS: Record<CursorPart, (v: unknown) => boolean> = {
  int4: isInt4,
  uuid: isUuid,
  timestamp: isRfc3339DateTime,
  id8: isBigintId,
};

/** The sort key a cursor carries, exactly `parts` long with each part checked; 400 otherwise. */
export function decodeCursorAs<const P extends readonly CursorPart[]>(cursor: string, parts: P): { -readonly [K in keyof P]: CursorValue<P[K]> } {
  const key = decodeCursor(cursor);
  if (key.length !== parts.length || !parts.every((part, i) => CURSOR_CHECKS[part](key[i]))) throw invalidCursor();
  return key as { -readonly [K in keyof P]: CursorValue<P[K]> };
}

export function invalidCursor(): BadRequestException {
  return new BadRequestException('cursor is not valid: pass the nextCursor of the previous page unchanged');
}
