import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../../common/access.js';
import { RedisHealthIndicator } from './redis-health.js';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /**
   * 200 when Postgres and Redis both answer; 503 naming the one that does not. Only
   * up/down per dependency: a driver's error text names hosts, ports and users, which
   * is for the logs and the operators, not for anyone who can reach a public route.
   */
  @Get()
  @Public()
  @HealthCheck()
  async check() {
    try {
      return upDownOnly(await this.health.check([() => this.db.pingCheck('postgres', { timeout: 1500 }), () => this.redis.check('redis')]));
    } catch (err) {
      if (err instanceof ServiceUnavailableException) {
        // `error` is the error shape's own field ({statusCode, error, message}): the
        // failing dependencies are named in the message and in details.
        const { error, ...body } = upDownOnly(err.getResponse() as HealthCheckResult);
        throw new ServiceUnavailableException({ ...body, message: `Unavailable: ${Object.keys(error).join(', ')}` });
      }
      throw err;
    }
  }
}

type UpDown = Record<string, { status: 'up' | 'down' }>;

function upDownOnly(result: HealthCheckResult): { status: string; info: UpDown; error: UpDown; details: UpDown } {
  const strip = (part: Record<string, { status: string } | undefined> | undefined): UpDown =>
    Object.fromEntries(Object.entries(part ?? {}).map(([name, v]) => [name, { status: v?.status === 'up' ? 'up' : 'down' }]));
  return { status: result.status, info: strip(result.info), error: strip(result.error), details: strip(result.details) };
}
