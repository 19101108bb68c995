// Writes templates/ from src/core (the `templates` projen task).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderCdktnFlavour } from './cdktn-flavour';
import { reportJsonSchema } from '../src/core/report-schema';
import { specFileJsonSchema } from '../src/core/spec';
import { renderTemplateFiles } from '../src/core/templates';

const dir = join(__dirname, '..', 'templates');
for (const [name, text] of Object.entries(renderTemplateFiles())) {
  mkdirSync(dirname(join(dir, name)), { recursive: true });
  writeFileSync(join(dir, name), text);
  console.log(`wrote templates/${name} (${Buffer.byteLength(text)} bytes)`);
}

const schema = join(__dirname, '..', 'schema', 'prowler-onboarding.schema.json');
writeFileSync(schema, `${JSON.stringify(specFileJsonSchema(), null, 2)}\n`);
console.log('wrote schema/prowler-onboarding.schema.json');
writeFileSync(join(__dirname, '..', 'schema', 'onboarding-report.schema.json'), `${JSON.stringify(reportJsonSchema(), null, 2)}\n`);
console.log('wrote schema/onboarding-report.schema.json');

// The CDK Terrain flavour: the CDKTF one renamed (scripts/cdktn-flavour.ts).
for (const [name, text] of Object.entries(renderCdktnFlavour())) {
  mkdirSync(dirname(join(__dirname, '..', name)), { recursive: true });
  writeFileSync(join(__dirname, '..', name), text);
  console.log(`wrote ${name}`);
}
