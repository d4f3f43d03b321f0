import { isUuid } from '../../common/input-rules.js';
import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { ACCESS_KEY, AccessRule, AuthedRequest } from '../../common/access.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { BankAuthService } from './bank-auth.service.js';
import { StaffAccessCache } from './staff-access.cache.js';

/** What a staff token says: who, and which of their token versions it belongs to. */
export interface StaffClaims {
  sub: string;
  tv: number;
  exp: number;
}

const ENDED = 'The access token is no longer valid (logged out, or the account changed); log in again';

/**
 * Global guard: deny by default; each route's @Public/@Roles/@BankApi decides. A staff
 * token proves who is calling and nothing more: role, `disabled` and the token version
 * are read live (StaffAccessCache), so withdrawing access takes effect within
 * ACCESS_CACHE_MS everywhere and at once on the process that made the change.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtService,
    private readonly banks: BankAuthService,
    private readonly access: StaffAccessCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (!rule) throw new ForbiddenException('This route declares no access rule, so nobody may call it');
    if (rule.kind === 'public') return true;

    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new UnauthorizedException('Send an Authorization: Bearer <token> header');

    if (rule.kind === 'bank') {
      const bank = await this.banks.authenticate(token);
      if (!bank) throw new UnauthorizedException('The API key is not valid');
      req.principal = { kind: 'bank', bankId: bank.id, bankName: bank.name };
      return true;
    }

    const claims = await this.verify(token);
    const staff = await this.access.get(claims.sub);
    if (!staff || staff.disabled || staff.tokenVersion !== claims.tv) throw new UnauthorizedException(ENDED);
    req.principal = { kind: 'staff', userId: staff.id, email: staff.email, role: staff.role };
    if (!rule.roles.includes(staff.role)) {
      throw new ForbiddenException(`This action needs one of these roles: ${rule.roles.join(', ')}`);
    }
    return true;
  }

  private async verify(token: string): Promise<StaffClaims> {
    let claims: Partial<Record<keyof StaffClaims, unknown>>;
    try {
      claims = await this.jwt.verifyAsync(token, {
        algorithms: ['HS256'],
        issuer: this.config.jwtIssuer,
        audience: this.config.jwtAudience,
      });
    } catch {
      throw new UnauthorizedException('The access token is invalid or has expired; log in again');
    }
    // jsonwebtoken accepts a token without `exp` as one that never expires.
    if (typeof claims.exp !== 'number' || typeof claims.sub !== 'string' || !isUuid(claims.sub) || !Number.isInteger(claims.tv)) {
      throw new UnauthorizedException('The access token is invalid or has expired; log in again');
    }
    return claims as StaffClaims;
  }
}

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}
