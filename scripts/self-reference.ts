// Lets repository scripts and examples import 'prowler-org-onboarding' as a user would,
// resolved to this checkout's src/ (the tests do the same with jest's moduleNameMapper).
import Module from 'node:module';
import { join } from 'node:path';

const PACKAGE = 'prowler-org-onboarding';
const ENTRY = join(__dirname, '..', 'src', 'index.ts');
const resolve = (Module as any)._resolveFilename;
(Module as any)._resolveFilename = function (request: string, ...rest: unknown[]) {
  return resolve.call(this, request === PACKAGE ? ENTRY : request, ...rest);
};
