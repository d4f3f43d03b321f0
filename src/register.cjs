// Runs TypeScript sources directly (npm run cli/migrate/demo/bench): @swc-node/register
// compiles with decorator metadata, and this hook maps the `.js` specifiers that
// `moduleResolution: nodenext` requires back to the `.ts` files beside them.
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request.endsWith('.js') && (request.startsWith('.') || path.isAbsolute(request)) && parent && parent.filename) {
    const candidate = path.resolve(path.dirname(parent.filename), request.slice(0, -3) + '.ts');
    if (!parent.filename.includes(`${path.sep}node_modules${path.sep}`) && fs.existsSync(candidate)) {
      return candidate;
    }
  }
  return resolve.call(this, request, parent, ...rest);
};

require('@swc-node/register');
