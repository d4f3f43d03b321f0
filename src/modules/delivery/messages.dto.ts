import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/paging.js';

/** The statuses a person can list messages by: those that need a person. */
export const LISTABLE_MESSAGE_STATUSES = ['unknown'] as const;

export class MessageListQueryDto extends PageQueryDto {
  @ApiProperty({ enum: LISTABLE_MESSAGE_STATUSES, description: 'unknown: the provider could not say whether it has the message' })
  @IsIn(LISTABLE_MESSAGE_STATUSES, { message: `status must be one of ${LISTABLE_MESSAGE_STATUSES.join(', ')}` })
  status!: (typeof LISTABLE_MESSAGE_STATUSES)[number];

  @ApiPropertyOptional({ description: 'Only this campaign’s messages' })
  @IsOptional() @IsUUID('all', { message: 'campaignId must be a campaign id (a UUID)' })
  campaignId?: string;
}

export const RESOLVE_OUTCOMES = ['sent', 'not_sent'] as const;
export type ResolveOutcome = (typeof RESOLVE_OUTCOMES)[number];

export class ResolveMessageDto {
  @ApiProperty({ enum: RESOLVE_OUTCOMES, description: 'sent: the provider has it (checked in its console); not_sent: it never left, send it again' })
  @IsIn(RESOLVE_OUTCOMES, { message: 'outcome must be sent or not_sent' })
  outcome!: ResolveOutcome;

  @ApiPropertyOptional({ maxLength: 500, description: 'What was checked, for the audit log' })
  @IsOptional()
  @MaxLength(500, { message: 'note must be at most 500 characters' })
  @IsString({ message: 'note must be text' })
  note?: string;
}
