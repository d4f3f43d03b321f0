import { applyDecorators, HttpCode, Post, UseInterceptors } from '@nestjs/common';
import { FileInterceptor, type MulterModuleOptions } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { chmod, chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { diskStorage, type StorageEngine } from 'multer';
import type { AppConfig } from '../config/configuration.js';

/**
 * Uploads stream straight to UPLOAD_DIR (never into memory) under a random name; an
 * upload above MAX_UPLOAD_BYTES is cut off with 413. Workers read the file from there,
 * so in a multi-machine deployment UPLOAD_DIR is shared storage.
 *
 * Uploads hold victims' numbers: the folder is 0700 and each file 0600, so no other
 * local user can list or read them (the default /tmp is shared by every user).
 */
export function multerOptions(config: AppConfig): MulterModuleOptions {
  return {
    storage: privateFiles(
      diskStorage({
        destination: (_req, _file, cb) => {
          try {
            ensurePrivateDir(config.uploadDir);
            cb(null, config.uploadDir);
          } catch (err) {
            cb(err as Error, config.uploadDir);
          }
        },
        filename: (_req, _file, cb) => cb(null, `${Date.now()}-${randomUUID()}.csv`),
      }),
    ),
    limits: { fileSize: config.maxUploadBytes, files: 1, fields: 5 },
  };
}

/**
 * Creates the upload folder 0700, or tightens an existing one of ours to 0700. One that
 * is a symlink or belongs to another user is refused: someone else could have made it
 * in /tmp beforehand to read what we write there.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`UPLOAD_DIR ${dir} is not a directory (a symlink or a file)`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new Error(`UPLOAD_DIR ${dir} belongs to another user (uid ${st.uid}); give the service a folder of its own`);
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

/**
 * Multer's disk storage with every saved file made 0600 before the request goes on.
 * Between create and chmod the file is only reachable through the 0700 folder.
 */
function privateFiles(inner: StorageEngine): StorageEngine {
  return {
    _handleFile(req, file, cb) {
      inner._handleFile(req, file, (err, info) => {
        if (err || !info?.path) return cb(err, info);
        chmod(info.path, 0o600, (chmodErr) => cb(chmodErr ?? null, info));
      });
    },
    _removeFile(req, file, cb) {
      inner._removeFile(req, file, cb);
    },
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
