import { applyDecorators, HttpCode, Post, UseInterceptors } from '@nestjs/common';
import { FileInterceptor, type MulterModuleOptions } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { diskStorage } from 'multer';
import type { AppConfig } from '../config/configuration.js';

/**
 * Uploads stream straight to UPLOAD_DIR (never into memory) under a random name; an
 * upload above MAX_UPLOAD_BYTES is cut off with 413. Workers read the file from there,
 * so in a multi-machine deployment UPLOAD_DIR is shared storage.
 */
export function multerOptions(config: AppConfig): MulterModuleOptions {
  return {
    storage: diskStorage({
      destination: (_req, _file, cb) => {
        mkdirSync(config.uploadDir, { recursive: true });
        cb(null, config.uploadDir);
      },
      filename: (_req, _file, cb) => cb(null, `${Date.now()}-${randomUUID()}.csv`),
    }),
    limits: { fileSize: config.maxUploadBytes, files: 1, fields: 5 },
  };
}

/**
 * POST of one CSV as the multipart field "file", answered 202 once it is saved: the
 * route shape every import upload shares. Access stays declared on the route itself.
 */
export function CsvUploadRoute(): MethodDecorator {
  return applyDecorators(
    Post(),
    HttpCode(202),
    ApiConsumes('multipart/form-data'),
    ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } }),
    UseInterceptors(FileInterceptor('file')),
  );
}
