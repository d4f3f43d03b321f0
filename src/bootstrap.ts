import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { STATUS_CODES, type Server } from 'node:http';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { HttpErrorFilter } from './common/http-exception.filter.js';
import { SafeInputPipe } from './common/validation.js';
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
  app.useGlobalPipes(
    new SafeInputPipe(),
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: true }),
  );
  app.useGlobalFilters(new HttpErrorFilter());
  answerClientErrorsAsJson(app.getHttpServer());
  if (config.appRole !== 'worker' && config.apiDocsEnabled) setUpSwagger(app);
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

/**
 * Requests Node refuses before Express sees them (headers or URL over 16 KB, a
 * malformed request line) get the standard error body too, instead of Node's bare
 * status line.
 */
function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (err.code === 'ECONNRESET')) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const message =
      status === 431 ? 'The request URL or headers are too large (at most 16 KB); send less in the query string'
        : status === 408 ? 'The request took too long to arrive'
          : 'The request is not valid HTTP';
    const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
