import {
  ArgumentMetadata, BadRequestException, CallHandler, ExecutionContext, Injectable, NestInterceptor, PipeTransform,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
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
 * A body sent to a route that reads none is refused: it would be ignored, so the
 * action would run with none of what the caller thought they asked for (and none of
 * the checks the caller may have thought applied). An empty `{}` or `[]` is no body.
 */
@Injectable()
export class UnexpectedBodyInterceptor implements NestInterceptor {
  private readonly takesBody = new WeakMap<object, boolean>();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const body = context.switchToHttp().getRequest<Request>().body as unknown;
      if (hasContent(body) && !this.handlerTakesBody(context)) {
        throw new BadRequestException('This route takes no request body; send the request without one');
      }
    }
    return next.handle();
  }

  private handlerTakesBody(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let takes = this.takesBody.get(handler);
    if (takes === undefined) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as Record<string, unknown>;
      // Keys are `${paramtype}:${index}`; a handler that reads the raw request decides for itself.
      const types = Object.keys(args).map((k) => Number(k.split(':')[0]));
      takes = types.includes(RouteParamtypes.BODY) || types.includes(RouteParamtypes.REQUEST);
      this.takesBody.set(handler, takes);
    }
    return takes;
  }
}

function hasContent(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  if (Array.isArray(body)) return body.length > 0;
  if (typeof body === 'object') return Object.keys(body).length > 0;
  return true;
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
