import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import path from 'node:path';
import { Public } from '../../../common/access.js';
import { GOVUK_FRONTEND_DIR } from './page-renderer.js';

const GOVUK = path.join(GOVUK_FRONTEND_DIR, 'dist', 'govuk');
/** The built stylesheet and script sit beside the assets folder, not in it. */
const TOP_LEVEL = new Set(['govuk-frontend.min.css', 'govuk-frontend.min.js']);

/**
 * GOV.UK Frontend's CSS, JS, fonts and images, served by the app itself so that the
 * pages' CSP can forbid every other origin. The stylesheet asks for /assets/fonts/… and
 * /assets/images/…, which is why this lives at /assets.
 */
@ApiExcludeController()
@Controller('assets')
export class AssetsController {
  @Get('*path')
  @Public()
  serve(@Param('path') parts: string[] | string, @Res() res: Response): void {
    const rel = (Array.isArray(parts) ? parts : [parts]).join('/');
    const root = TOP_LEVEL.has(rel) ? GOVUK : path.join(GOVUK, 'assets');
    // sendFile with a root refuses '..' and dotfiles, so nothing outside the folder is reachable.
    res.sendFile(rel, { root, dotfiles: 'deny', maxAge: '1d', immutable: false }, (err) => {
      if (!err || res.headersSent) return;
      const notFound = new NotFoundException('No such asset');
      res.status(404).json({ statusCode: 404, error: 'Not Found', message: notFound.message });
    });
  }
}
