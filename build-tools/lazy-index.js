// Rewrites lib/index.js (after jsii compiles it) so that each namespace loads on first use:
// `require('prowler-org-onboarding').cdk` never loads cdktf, and `.cdktf` never loads aws-cdk-lib.
// All are optional peers: a CDK user installs no cdktf, a CDKTF or cdktn user no aws-cdk-lib. The .jsii
// assembly and lib/index.d.ts are jsii's, unchanged; jsii's runtime reaches the namespaces
// through these same properties.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const NAMESPACES = ['core', 'cdk', 'cdktf', 'cdktn'];
const file = path.join(__dirname, '..', 'lib', 'index.js');
const compiled = fs.readFileSync(file, 'utf8');
for (const ns of NAMESPACES) {
  if (!compiled.includes(`exports.${ns} = `) && !compiled.includes('lazy namespaces')) {
    throw new Error(`lib/index.js does not export the namespace '${ns}' as expected: update build-tools/lazy-index.js`);
  }
}
const lazy = [
  '"use strict";',
  '// lazy namespaces (build-tools/lazy-index.js): each loads on first use.',
  'Object.defineProperty(exports, "__esModule", { value: true });',
  ...NAMESPACES.map((ns) => `Object.defineProperty(exports, ${JSON.stringify(ns)}, { enumerable: true, configurable: true, get: () => require(${JSON.stringify(`./${ns}`)}) });`),
  '',
].join('\n');
fs.writeFileSync(file, lazy);
