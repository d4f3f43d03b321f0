import type { MulterModuleOptions } from '@nestjs/platform-express';
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
