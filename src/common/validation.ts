import {
  ArgumentMetadata, BadRequestException, CanActivate, ExecutionContext, Injectable, PipeTransform,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import type { Request } from 'express';
import { ACCESS_KEY, type AccessRule } from './access.js';
import { isDateOrDateTime, isRfc3339DateTime, isUuid, unsafeInputProblem } from './input-rules.js';

/**
 * The first global pipe: every body, query and path parameter a handler takes is
 * refused with a 400 naming the field when it holds NUL, a lone surrogate, a
 * prototype key or absurd nesting (see input-rules.ts). It runs before the
 * ValidationPipe, so no DTO needs to repeat it.
 */
@Injectable()
export class SafeInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const problem = unsafeInputProblem(value, metadata.data ?? '');
    if (problem) throw new BadRequestException(problem);
    return value;
  }
}

/**
 * A body or a query string sent to a route that reads none is refused: it would be
 * ignored, so the action would run without what the caller thought they asked for
 * (and without the checks they may have thought applied). Any body counts, parsed or
 * not (`text/plain` is not parsed); only an empty JSON object `{}` counts as none,
 * since clients often send one with a POST. Public routes are left alone: their callers
 * are mail providers (RFC 8058 one-click sends `List-Unsubscribe=One-Click`), Twilio and
 * browsers following links with tracking parameters, none of which we control.
 */
interface Takes {
  public: boolean;
  body: boolean;
  query: boolean;
}

@Injectable()
export class UnexpectedInputGuard implements CanActivate {
  private readonly takes = new WeakMap<object, Takes>();

  // A guard rather than an interceptor: an interceptor wraps every request in an
  // observable pipeline, which cost the webhook path a third of its throughput. It is
  // mounted after the access guard, so a caller without access still gets 401/403 first.
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const takes = this.argsOf(context);
    if (takes.public) return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (hasBody(req) && !takes.body) throw new BadRequestException('This route takes no request body; send the request without one');
    if (Object.keys(req.query ?? {}).length > 0 && !takes.query) {
      throw new BadRequestException('This route takes no query parameters; send the request without a query string');
    }
    return true;
  }

  private argsOf(context: ExecutionContext): Takes {
    const handler = context.getHandler();
    let takes = this.takes.get(handler);
    if (takes === undefined) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as Record<string, unknown>;
      // Keys are `${paramtype}:${index}`; a handler that reads the raw request decides for itself.
      const types = Object.keys(args).map((k) => Number(k.split(':')[0]));
      const raw = types.includes(RouteParamtypes.REQUEST);
      const rule = (Reflect.getMetadata(ACCESS_KEY, handler) ?? Reflect.getMetadata(ACCESS_KEY, context.getClass())) as AccessRule | undefined;
      takes = {
        public: rule?.kind === 'public',
        body: raw || [RouteParamtypes.BODY, RouteParamtypes.FILE, RouteParamtypes.FILES].some((t) => types.includes(t)),
        query: raw || types.includes(RouteParamtypes.QUERY),
      };
      this.takes.set(handler, takes);
    }
    return takes;
  }
}

function hasBody(req: Request): boolean {
  const body = req.body as unknown;
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return false;
  if (body !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return length > 0 || req.headers['transfer-encoding'] !== undefined;
}

/** `YYYY-MM-DD` or an RFC 3339 date-time with an offset, on a real day (see input-rules.ts). */
export function IsDateOrDateTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isDateOrDateTime', validator: { validate: (v: unknown) => isDateOrDateTime(v) } }, options);
}

/** An RFC 3339 date-time with an offset (`2025-03-01T09:00:00Z`). */
export function IsDateTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isDateTime', validator: { validate: (v: unknown) => isRfc3339DateTime(v) } }, options);
}

/** A UUID in canonical form, any version. */
export function IsStrictUuid(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isStrictUuid', validator: { validate: (v: unknown) => isUuid(v) } }, options);
}
