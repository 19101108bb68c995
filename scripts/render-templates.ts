// Writes templates/ from src/core (the `templates` projen task).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderTemplateFiles } from '../src/core/templates';

const dir = join(__dirname, '..', 'templates');
for (const [name, text] of Object.entries(renderTemplateFiles())) {
  writeFileSync(join(dir, name), text);
  console.log(`wrote templates/${name} (${Buffer.byteLength(text)} bytes)`);
}
