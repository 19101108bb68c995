// Lets repository scripts and examples import 'prowler-org-onboarding' as a user would,
// resolved to this checkout's src/ (the tests do the same with jest's moduleNameMapper).
import Module from 'node:module';
import { join } from 'node:path';

const PACKAGE = 'prowler-org-onboarding';
const SRC = join(__dirname, '..', 'src');
const SUBPATH = new RegExp(`^${PACKAGE}/(core|cdk|cdktf)$`);
const resolve = (Module as any)._resolveFilename;
(Module as any)._resolveFilename = function (request: string, ...rest: unknown[]) {
  const subpath = SUBPATH.exec(request)?.[1];
  const target = request === PACKAGE ? join(SRC, 'index.ts') : subpath ? join(SRC, subpath, 'index.ts') : request;
  return resolve.call(this, target, ...rest);
};
