import { Controller, Get, Headers, Inject, NotFoundException, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../../common/access.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { metricsRegistry } from './metrics.js';

/**
 * Prometheus scrape endpoint: counters and gauges only, never personal data, but still a
 * map of the service's load and queues. With METRICS_TOKEN set it asks for
 * `Authorization: Bearer <token>`; in production without one it is off (404), so a
 * forgotten setting never leaves it open. Public as far as the staff guard goes: a
 * scraper is not a member of staff.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  private readonly token: Buffer | null;
  private readonly off: boolean;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.token = config.metricsToken ? digest(config.metricsToken) : null;
    this.off = !this.token && config.nodeEnv === 'production';
  }

  @Get()
  @Public()
  async metrics(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) res: Response): Promise<string> {
    if (this.off) throw new NotFoundException('Metrics are off: set METRICS_TOKEN to turn them on');
    if (this.token) {
      const given = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
      // Hashing first gives equal lengths, so the comparison takes the same time for any guess.
      if (!given || !timingSafeEqual(digest(given), this.token)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        throw new UnauthorizedException('Send the metrics token as Authorization: Bearer <token>');
      }
    }
    res.setHeader('Content-Type', metricsRegistry.contentType);
    return metricsRegistry.metrics();
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
