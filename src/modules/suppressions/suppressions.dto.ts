import { PageQueryDto } from '../../common/paging.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { SUPPRESSION_CHANNELS, SuppressionChannel } from './suppression-address.js';

/**
 * Every reason a suppression can carry. provider_opt_out is set only by the provider's
 * answers, unsubscribe by the email link, sms_stop by an SMS reply. The opt-outs among
 * them (src/common/opt-out.ts) are removed only by two people.
 */
export const SUPPRESSION_REASONS = ['opt_out', 'hard_bounce', 'do_not_contact', 'complaint', 'provider_opt_out', 'unsubscribe', 'sms_stop'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** The reasons staff may give, by API or CSV import. */
export const STAFF_SUPPRESSION_REASONS = ['opt_out', 'hard_bounce', 'do_not_contact', 'complaint'] as const;
export type StaffSuppressionReason = (typeof STAFF_SUPPRESSION_REASONS)[number];

export class CreateSuppressionDto {
  @ApiProperty({ enum: SUPPRESSION_CHANNELS })
  @IsIn(SUPPRESSION_CHANNELS, { message: 'channel must be sms or email' })
  channel!: SuppressionChannel;

  @ApiProperty({ description: 'A phone number in any usual written form (sms) or an email address (email)', maxLength: 320 })
  @IsDefined({ message: 'address is required' })
  // class-validator runs these bottom-up (IsDefined always first): the type before the length.
  @MaxLength(320, { message: 'address must be at most 320 characters' })
  @IsString({ message: 'address must be text' })
  address!: string;

  @ApiProperty({ enum: STAFF_SUPPRESSION_REASONS })
  @IsIn(STAFF_SUPPRESSION_REASONS, { message: `reason must be one of ${STAFF_SUPPRESSION_REASONS.join(', ')}` })
  reason!: StaffSuppressionReason;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @MaxLength(500, { message: 'note must be at most 500 characters' })
  @IsString({ message: 'note must be text' })
  note?: string;
}

export class SuppressionQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: SUPPRESSION_CHANNELS })
  @IsOptional() @IsIn(SUPPRESSION_CHANNELS, { message: 'channel must be sms or email' })
  channel?: SuppressionChannel;

  @ApiPropertyOptional({ enum: SUPPRESSION_REASONS })
  @IsOptional() @IsIn(SUPPRESSION_REASONS, { message: `reason must be one of ${SUPPRESSION_REASONS.join(', ')}` })
  reason?: SuppressionReason;

  @ApiPropertyOptional({ description: 'Exactly this address, in any written form (normalised before matching)' })
  @IsOptional() @MaxLength(320, { message: 'address must be at most 320 characters' }) @IsString({ message: 'address must be text' })
  address?: string;
}

export class RequestRemovalDto {
  @ApiProperty({ description: 'Why this opt-out should be removed (the approver reads it)', maxLength: 500 })
  @IsDefined({ message: 'reason is required: say why the opt-out should be removed' })
  @MaxLength(500, { message: 'reason must be at most 500 characters' })
  @IsString({ message: 'reason must be text' })
  reason!: string;
}

export class DecideRemovalDto {
  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @MaxLength(500, { message: 'note must be at most 500 characters' })
  @IsString({ message: 'note must be text' })
  note?: string;
}

export const REMOVAL_STATUSES = ['pending', 'approved', 'rejected'] as const;

export class RemovalQueryDto {
  @ApiPropertyOptional({ enum: REMOVAL_STATUSES })
  @IsOptional()
  @IsIn(REMOVAL_STATUSES, { message: `status must be one of ${REMOVAL_STATUSES.join(', ')}` })
  status?: (typeof REMOVAL_STATUSES)[number];
}
