import { CHANNELS, type Channel } from '../../common/channel.js';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString,
  Matches, Max, MaxLength, Min, ValidateNested,
} from 'class-validator';
import { WEEKDAYS, type Weekday } from '../../common/compliance-gate.js';
import { IsDateTime } from '../../common/validation.js';
import { CalledDateRule, MinLongestCallSecondsRule, VICTIM_STATUSES, type VictimStatus } from '../victims/victims.dto.js';
import { CAMPAIGN_STATUSES, type CampaignStatus } from './campaign-state.js';

export { CHANNELS, type Channel };
export const CHANNEL_STRATEGIES = ['all', 'first_available'] as const;
export type ChannelStrategy = (typeof CHANNEL_STRATEGIES)[number];

/** Who the campaign is for: the victim filters, plus a cooling-off period and a cap. */
export class AudienceDto {
  @ApiPropertyOptional() @MinLongestCallSecondsRule('audience.minLongestCallSeconds')
  minLongestCallSeconds?: number;

  @ApiPropertyOptional({ description: 'institution code, e.g. barclays' }) @IsOptional() @IsString()
  @Matches(/^[a-z0-9_]{1,50}$/, { message: 'audience.institution must be an institution code such as barclays' })
  institution?: string;

  @ApiPropertyOptional({ enum: VICTIM_STATUSES }) @IsOptional()
  @IsIn(VICTIM_STATUSES, { message: `audience.status must be one of ${VICTIM_STATUSES.join(', ')}` })
  status?: VictimStatus;

  @ApiPropertyOptional({ enum: CHANNELS }) @IsOptional() @IsIn(CHANNELS, { message: 'audience.channel must be sms or email' })
  channel?: Channel;

  @ApiPropertyOptional() @CalledDateRule('audience.calledAfter')
  calledAfter?: string;

  @ApiPropertyOptional() @CalledDateRule('audience.calledBefore')
  calledBefore?: string;

  @ApiPropertyOptional({ description: 'leave out victims sent any message within this many days' })
  @IsOptional() @IsInt({ message: 'audience.excludeContactedWithinDays must be a whole number' })
  @Min(1, { message: 'audience.excludeContactedWithinDays must be from 1 to 365' }) @Max(365, { message: 'audience.excludeContactedWithinDays must be from 1 to 365' })
  excludeContactedWithinDays?: number;

  @ApiPropertyOptional({ description: 'at most this many victims, highest priority first' })
  @IsOptional() @IsInt({ message: 'audience.limit must be a whole number' })
  @Min(1, { message: 'audience.limit must be from 1 to 5000000' }) @Max(5_000_000, { message: 'audience.limit must be from 1 to 5000000' })
  limit?: number;
}

export class SmsTemplateDto {
  @ApiProperty({ example: 'City Police: ... Ref ((reference)). ((report_url))' })
  @IsString() @IsNotEmpty({ message: 'sms.body must not be empty' }) @MaxLength(2000, { message: 'sms.body must be at most 2000 characters' })
  body!: string;
}

export class EmailTemplateDto {
  @ApiProperty() @IsString() @IsNotEmpty({ message: 'email.subject must not be empty' })
  @MaxLength(200, { message: 'email.subject must be at most 200 characters' })
  subject!: string;

  @ApiProperty({ description: 'plain text; always sent' }) @IsString() @IsNotEmpty({ message: 'email.body must not be empty' })
  @MaxLength(20_000, { message: 'email.body must be at most 20000 characters' })
  body!: string;

  @ApiPropertyOptional({ description: 'optional HTML part, sent alongside the plain text' })
  @IsOptional() @IsString() @MaxLength(100_000, { message: 'email.html must be at most 100000 characters' })
  html?: string;
}

export class SendWindowDto {
  @ApiProperty({ example: '09:00' }) @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'sendWindow.start must be a 24-hour time such as 09:00' })
  start!: string;

  @ApiProperty({ example: '20:00' }) @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'sendWindow.end must be a 24-hour time such as 20:00' })
  end!: string;

  @ApiProperty({ example: 'Europe/London' }) @IsString() @MaxLength(64)
  timezone!: string;

  @ApiProperty({ example: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'] })
  @IsArray({ message: 'sendWindow.days must be a list of days' }) @ArrayNotEmpty({ message: 'sendWindow.days must list at least one day' })
  @ArrayUnique({ message: 'sendWindow.days lists a day twice' })
  @IsIn(WEEKDAYS, { each: true, message: `sendWindow.days must be among ${WEEKDAYS.join(', ')}` })
  days!: Weekday[];
}

export class CreateCampaignDto {
  @ApiProperty() @IsString() @IsNotEmpty({ message: 'name must not be empty' }) @MaxLength(200, { message: 'name must be at most 200 characters' })
  name!: string;

  @ApiProperty({ enum: CHANNELS, isArray: true })
  @IsArray({ message: 'channels must be a list: ["sms"], ["email"] or both' }) @ArrayNotEmpty({ message: 'channels must name at least one channel' })
  @ArrayMaxSize(2) @ArrayUnique({ message: 'channels lists a channel twice' })
  @IsIn(CHANNELS, { each: true, message: 'channels must be sms and/or email' })
  channels!: Channel[];

  @ApiPropertyOptional({ enum: CHANNEL_STRATEGIES, default: 'all' }) @IsOptional()
  @IsIn(CHANNEL_STRATEGIES, { message: 'channelStrategy must be all or first_available' })
  channelStrategy?: ChannelStrategy;

  @ApiPropertyOptional({ type: AudienceDto }) @IsOptional() @IsObject({ message: 'audience must be an object' })
  @ValidateNested() @Type(() => AudienceDto)
  audience?: AudienceDto;

  @ApiPropertyOptional({ type: SmsTemplateDto }) @IsOptional() @IsObject({ message: 'sms must be an object with a body' })
  @ValidateNested() @Type(() => SmsTemplateDto)
  sms?: SmsTemplateDto;

  @ApiPropertyOptional({ type: EmailTemplateDto }) @IsOptional() @IsObject({ message: 'email must be an object with a subject and body' })
  @ValidateNested() @Type(() => EmailTemplateDto)
  email?: EmailTemplateDto;

  @ApiPropertyOptional({ type: SendWindowDto, description: 'default 09:00–20:00 Europe/London, every day' })
  @IsOptional() @IsObject({ message: 'sendWindow must be an object' }) @ValidateNested() @Type(() => SendWindowDto)
  sendWindow?: SendWindowDto;

  @ApiPropertyOptional({ description: 'RFC 3339 date-time with an offset; not before this time' }) @IsOptional()
  @IsDateTime({ message: 'startAt must be an ISO 8601 date and time with an offset, such as 2025-03-01T09:00:00Z, on a day that exists' })
  startAt?: string;
}

export class UpdateCampaignDto extends PartialType(CreateCampaignDto) {}

export class CampaignListQueryDto {
  @ApiPropertyOptional({ enum: CAMPAIGN_STATUSES }) @IsOptional()
  @IsIn(CAMPAIGN_STATUSES, { message: `status must be one of ${CAMPAIGN_STATUSES.join(', ')}` })
  status?: CampaignStatus;

  @ApiPropertyOptional({ default: 50, maximum: 200 }) @IsOptional() @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' }) @Min(1, { message: 'limit must be from 1 to 200' }) @Max(200, { message: 'limit must be from 1 to 200' })
  limit?: number;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;
}

export class TemplatePreviewDto {
  @ApiProperty({ enum: CHANNELS }) @IsIn(CHANNELS, { message: 'channel must be sms or email' })
  channel!: Channel;

  @ApiProperty() @MaxLength(20_000, { message: 'body must be at most 20000 characters' }) @IsString({ message: 'body must be text' })
  body!: string;

  @ApiPropertyOptional() @IsOptional() @MaxLength(200, { message: 'subject must be at most 200 characters' }) @IsString({ message: 'subject must be text' })
  subject?: string;

  @ApiPropertyOptional({ description: 'the HTML part of an email, checked and rendered like the body' }) @IsOptional()
  @MaxLength(100_000, { message: 'html must be at most 100000 characters' }) @IsString({ message: 'html must be text' })
  html?: string;
}
