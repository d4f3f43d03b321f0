import { Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../../common/access.js';
import { PageRenderer } from './pages/page-renderer.js';
import { UnsubscribeService } from './unsubscribe.service.js';

/**
 * The List-Unsubscribe link of every email. GET only shows a page with a button, since
 * mail scanners fetch links; POST unsubscribes, from that button or from a mail client's
 * one-click (`List-Unsubscribe=One-Click`, RFC 8058), and answers 200 with a page either
 * way. Any token that is not one of ours gets the same 404 page and changes nothing.
 */
@ApiExcludeController()
@Controller('unsubscribe')
export class UnsubscribeController {
  constructor(
    private readonly unsubscribe: UnsubscribeService,
    private readonly pages: PageRenderer,
  ) {}

  @Get(':token')
  @Public()
  async confirm(@Param('token') token: string, @Res() res: Response): Promise<void> {
    if (!(await this.unsubscribe.isValid(token))) return this.pages.send(res, 404, 'link-not-found.njk');
    this.pages.send(res, 200, 'unsubscribe.njk', { action: `/unsubscribe/${encodeURIComponent(token)}` });
  }

  @Post(':token')
  @Public()
  async submit(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const done = await this.unsubscribe.unsubscribe(token);
    if (!done) return this.pages.send(res, 404, 'link-not-found.njk');
    this.pages.send(res, 200, 'unsubscribed.njk');
  }
}
