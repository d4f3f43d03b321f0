import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { HttpErrorFilter } from './common/http-exception.filter.js';
import { SafeInputPipe, UnexpectedBodyInterceptor } from './common/validation.js';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/configuration.js';

/** Builds the HTTP application for a role; main.ts and the tests share it. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRole(config.appRole, config), {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApp(app, config);
  return app;
}

export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  // Twilio webhooks are form-encoded and their signature covers the parsed params;
  // 1 MB is far above any legitimate JSON or form body here (uploads are multipart).
  app.useBodyParser('json', { limit: '1mb' });
  app.useBodyParser('urlencoded', { extended: false, limit: '1mb' });
  app.useGlobalInterceptors(new UnexpectedBodyInterceptor());
  app.useGlobalPipes(
    new SafeInputPipe(),
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: true }),
  );
  app.useGlobalFilters(new HttpErrorFilter());
  if (config.appRole !== 'worker') setUpSwagger(app);
}

function setUpSwagger(app: INestApplication): void {
  const doc = new DocumentBuilder()
    .setTitle('Victim outreach platform')
    .setDescription('Police staff, victim and bank APIs. Staff and banks authenticate with `Authorization: Bearer`.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, doc), { jsonDocumentUrl: 'api/docs-json' });
}
