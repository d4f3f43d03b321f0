import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { StaffRole } from '../modules/auth/staff-user.entity.js';

/**
 * Every route declares who may call it: @Public(), @Roles(...) for staff, or @BankApi()
 * for banks. The global AccessGuard denies any route that declares nothing.
 */
export const ACCESS_KEY = 'access';
export type AccessRule =
  | { kind: 'public' }
  | { kind: 'staff'; roles: StaffRole[] }
  | { kind: 'bank' };

export const Public = () => SetMetadata(ACCESS_KEY, { kind: 'public' } satisfies AccessRule);
export const Roles = (...roles: StaffRole[]) => SetMetadata(ACCESS_KEY, { kind: 'staff', roles } satisfies AccessRule);
export const BankApi = () => SetMetadata(ACCESS_KEY, { kind: 'bank' } satisfies AccessRule);

/** Shorthands for the usual role sets. */
export const ALL_STAFF: StaffRole[] = ['admin', 'supervisor', 'operator', 'analyst'];
export const OPERATORS_AND_UP: StaffRole[] = ['admin', 'supervisor', 'operator'];
export const SUPERVISORS_AND_UP: StaffRole[] = ['admin', 'supervisor'];

export interface StaffPrincipal {
  kind: 'staff';
  userId: string;
  email: string;
  role: StaffRole;
}
export interface BankPrincipal {
  kind: 'bank';
  bankId: string;
  bankName: string;
}
export type Principal = StaffPrincipal | BankPrincipal;

export interface AuthedRequest extends Request {
  principal?: Principal;
}

export const CurrentStaff = createParamDecorator((_: unknown, ctx: ExecutionContext): StaffPrincipal => {
  const p = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!p || p.kind !== 'staff') throw new Error('CurrentStaff used on a route that is not staff-only');
  return p;
});

export const CurrentBank = createParamDecorator((_: unknown, ctx: ExecutionContext): BankPrincipal => {
  const p = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!p || p.kind !== 'bank') throw new Error('CurrentBank used on a route that is not bank-only');
  return p;
});

export const ClientIp = createParamDecorator((_: unknown, ctx: ExecutionContext): string | null => {
  return ctx.switchToHttp().getRequest<Request>().ip ?? null;
});
