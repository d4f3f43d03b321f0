import { PageQueryDto } from '../../common/paging.js';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export const VICTIM_STATUSES = ['identified', 'notified', 'responded', 'loss_confirmed', 'no_loss', 'opted_out', 'do_not_contact'] as const;
export type VictimStatus = (typeof VICTIM_STATUSES)[number];

export class VictimQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only victims whose longest call lasted at least this many seconds' })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'minLongestCallSeconds must be a whole number' })
  @Min(0, { message: 'minLongestCallSeconds must be a whole number, 0 or more' })
  minLongestCallSeconds?: number;

  @ApiPropertyOptional({ description: 'Institution code impersonated, e.g. barclays' })
  @IsOptional() @IsString() @Matches(/^[a-z0-9_]{1,50}$/, { message: 'institution must be an institution code such as barclays' })
  institution?: string;

  @ApiPropertyOptional({ enum: VICTIM_STATUSES })
  @IsOptional() @IsIn(VICTIM_STATUSES, { message: `status must be one of ${VICTIM_STATUSES.join(', ')}` })
  status?: VictimStatus;

  @ApiPropertyOptional({ enum: ['sms', 'email'] })
  @IsOptional() @IsIn(['sms', 'email'], { message: 'channel must be sms or email' })
  channel?: 'sms' | 'email';

  @ApiPropertyOptional({ description: 'Last call on or after this ISO 8601 date/time' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'calledAfter must be an ISO 8601 date' })
  calledAfter?: string;

  @ApiPropertyOptional({ description: 'First call before this ISO 8601 date/time' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'calledBefore must be an ISO 8601 date' })
  calledBefore?: string;
}
