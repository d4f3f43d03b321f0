import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { createRequire } from 'node:module';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { APP_CONFIG } from '../../../config/config.module.js';
import type { AppConfig } from '../../../config/configuration.js';
import en from '../locales/en.json';

/** Every string a page shows, by locale; Welsh (cy) adds a file of the same shape. */
export type Locale = typeof en;
export type LocaleCode = 'en';
const LOCALES: Record<LocaleCode, Locale> = { en };

/** Our templates; the build copies them beside the compiled code (tsc copies no .njk). */
export const VIEWS_DIR = path.join(__dirname, '..', 'views');
/** govuk-frontend's package folder: its templates under dist/, its CSS, fonts and images under dist/govuk. */
export const GOVUK_FRONTEND_DIR = path.dirname(createRequire(__filename).resolve('govuk-frontend/package.json'));

/**
 * Server-rendered public pages (unsubscribe now; the victim report form next): one
 * nunjucks environment with autoescaping, our views first and then GOV.UK Frontend's
 * templates, so a page extends "layout.njk" and imports "govuk/components/…".
 */
@Injectable()
export class PageRenderer {
  private readonly env: nunjucks.Environment;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const loader = new nunjucks.FileSystemLoader([VIEWS_DIR, path.join(GOVUK_FRONTEND_DIR, 'dist')], {
      noCache: config.nodeEnv === 'development',
    });
    this.env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: false });
  }

  render(template: string, context: Record<string, unknown>, res: Response, locale: LocaleCode = 'en'): string {
    return this.env.render(template, {
      ...context,
      t: LOCALES[locale],
      org: this.config.orgName,
      cspNonce: (res.locals as { cspNonce?: string }).cspNonce,
    });
  }

  /** Sends a page: HTML, never cached (a page may carry a personal link's token). */
  send(res: Response, status: number, template: string, context: Record<string, unknown> = {}): void {
    const html = this.render(template, context, res);
    res.status(status).set('Cache-Control', 'no-store').type('html').send(html);
  }
}
