import { BadRequestException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { AudienceDto } from './campaigns.dto.js';

/**
 * What is wrong with an audience filter, by the DTO's own rules (those of the victims
 * query); empty when it may be run. A filter stored before these rules (or written
 * around the API) is checked again before it reaches SQL, so it answers 400, not a
 * Postgres error.
 */
export function audienceProblems(audience: unknown): string[] {
  if (audience === null || typeof audience !== 'object' || Array.isArray(audience)) return ['audience must be an object'];
  const errors = validateSync(plainToInstance(AudienceDto, audience), { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true });
  return errors.flatMap(messagesOf);
}

function messagesOf(e: ValidationError): string[] {
  const own = Object.values(e.constraints ?? {}).map((m) => (m.startsWith('property ') ? `audience.${m.slice(9)}` : m));
  return [...own, ...(e.children ?? []).flatMap(messagesOf)];
}

/** 400 when a saved campaign's audience cannot be run, saying how to fix it. */
export function assertStoredAudience(audience: unknown): void {
  const problems = audienceProblems(audience);
  if (problems.length > 0) {
    throw new BadRequestException(
      `This campaign's saved audience cannot be used: ${problems.join('; ')}. Edit the campaign's audience (PATCH /api/campaigns/:id) and try again.`,
    );
  }
}
