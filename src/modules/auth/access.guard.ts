import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { ACCESS_KEY, AccessRule, AuthedRequest } from '../../common/access.js';
import { BankAuthService } from './bank-auth.service.js';
import type { StaffRole } from './staff-user.entity.js';

interface StaffClaims {
  sub: string;
  email: string;
  role: StaffRole;
}

/** Global guard: deny by default; each route's @Public/@Roles/@BankApi decides. */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtService,
    private readonly banks: BankAuthService,
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

    let claims: StaffClaims;
    try {
      claims = await this.jwt.verifyAsync<StaffClaims>(token);
    } catch {
      throw new UnauthorizedException('The access token is invalid or has expired; log in again');
    }
    req.principal = { kind: 'staff', userId: claims.sub, email: claims.email, role: claims.role };
    if (!rule.roles.includes(claims.role)) {
      throw new ForbiddenException(`This action needs one of these roles: ${rule.roles.join(', ')}`);
    }
    return true;
  }
}

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}
