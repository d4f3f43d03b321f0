import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';

export interface RouteInfo {
  method: string;
  path: string;
  handler: (...args: unknown[]) => unknown;
}

/** Every controller route the application serves, from Nest's own metadata. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  const discovery = app.get(DiscoveryService);
  const scanner = app.get(MetadataScanner);
  const reflector = app.get(Reflector);
  const routes: RouteInfo[] = [];
  for (const wrapper of discovery.getControllers()) {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!instance || !wrapper.metatype) continue;
    const base = normalise(reflector.get<string | string[]>(PATH_METADATA, wrapper.metatype) ?? '');
    for (const name of scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
      const handler = instance[name] as RouteInfo['handler'];
      const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (sub === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const path = ('/' + [base, normalise(sub)].filter(Boolean).join('/')).replace(/\/+$/, '') || '/';
      routes.push({ method, path, handler });
    }
  }
  return routes;
}

function normalise(p: string | string[]): string {
  return (Array.isArray(p) ? p[0] : p).replace(/^\/+|\/+$/g, '');
}
