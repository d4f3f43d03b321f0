import type { Channel } from '../../common/channel.js';
import { applyDecorators } from '@nestjs/common';
import { PageQueryDto } from '../../common/paging.js';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { INT4_MAX } from '../../common/input-rules.js';
import { IsDateOrDateTime } from '../../common/validation.js';

export const VICTIM_STATUSES = ['identified', 'notified', 'responded', 'loss_confirmed', 'no_loss', 'opted_out', 'do_not_contact'] as const;
export type VictimStatus = (typeof VICTIM_STATUSES)[number];

/**
 * The rules of the victim filters, shared by the victims query and a campaign's
 * audience (which is saved and run later), so a filter that lists victims can be
 * saved and one that cannot is refused at save. `field` names it in messages.
 */
export function MinLongestCallSecondsRule(field: string) {
  const message = `${field} must be a whole number, 0 or more and at most ${INT4_MAX} (seconds)`;
  return applyDecorators(IsOptional(), IsInt({ message }), Min(0, { message }), Max(INT4_MAX, { message }));
}

export function CalledDateRule(field: string) {
  return applyDecorators(
    IsOptional(),
    IsDateOrDateTime({ message: `${field} must be an ISO 8601 date: a day (2024-01-31) or a date and time with an offset (2024-01-31T09:00:00Z), on a day that exists` }),
  );
}

export class VictimQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only victims whose longest call lasted at least this many seconds' })
  @Type(() => Number) @MinLongestCallSecondsRule('minLongestCallSeconds')
  minLongestCallSeconds?: number;

  @ApiPropertyOptional({ description: 'Institution code impersonated, e.g. barclays' })
  @IsOptional() @IsString() @Matches(/^[a-z0-9_]{1,50}$/, { message: 'institution must be an institution code such as barclays' })
  institution?: string;

  @ApiPropertyOptional({ enum: VICTIM_STATUSES })
  @IsOptional() @IsIn(VICTIM_STATUSES, { message: `status must be one of ${VICTIM_STATUSES.join(', ')}` })
  status?: VictimStatus;

  @ApiPropertyOptional({ enum: ['sms', 'email'] })
  @IsOptional() @IsIn(['sms', 'email'], { message: 'channel must be sms or email' })
  channel?: Channel;

  @ApiPropertyOptional({ description: 'Last call on or after this date (YYYY-MM-DD) or RFC 3339 date-time' })
  @CalledDateRule('calledAfter')
  calledAfter?: string;

  @ApiPropertyOptional({ description: 'First call before this date (YYYY-MM-DD) or RFC 3339 date-time' })
  @CalledDateRule('calledBefore')
  calledBefore?: string;
}
