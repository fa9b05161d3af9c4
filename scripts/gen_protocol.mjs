// Generate the panel's protocol code from python/cnnlive/protocol/schema.json,
// the one source of the protocol:
//   src/protocol.ts    TypeScript types (json-schema-to-typescript) and the
//                      constants the schema owns (version, actions, states)
//   src/validators.ts  runtime validators (ajv standalone code)
// `node scripts/gen_protocol.mjs --check` exits 1 when a committed file is stale.
import { readFileSync, writeFileSync, existsSync } from 'fs';
import { dirname, join, relative } from 'path';
import { fileURLToPath } from 'url';
import { createRequire } from 'module';
import { compile } from 'json-schema-to-typescript';

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default;
const standalone = require('ajv/dist/standalone').default;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA = join(ROOT, 'python', 'cnnlive', 'protocol', 'schema.json');
const HEADER =
  '// Generated from python/cnnlive/protocol/schema.json by scripts/gen_protocol.mjs\n' +
  '// (npm run gen:protocol, part of npm run build). Do not edit by hand.\n';

const enumOf = (schema, name) => {
  const values = schema.$defs[name]?.enum;
  if (!Array.isArray(values)) {
    throw new Error(`schema.json: $defs.${name} must be an enum`);
  }
  return values;
};

async function typesModule(schema) {
  const root = {
    ...schema,
    title: 'ProtocolMessage',
    oneOf: [{ $ref: '#/$defs/KernelMessage' }, { $ref: '#/$defs/PanelMessage' }]
  };
  delete root.$id;
  const types = await compile(root, 'ProtocolMessage', {
    bannerComment: '',
    additionalProperties: false,
    unreachableDefinitions: true,
    maxItems: -1, // bounded arrays stay arrays (no tuple unions)
    cwd: ROOT
  });
  const constants = [
    `export const PROTOCOL_VERSION = ${JSON.stringify(schema.version)};`,
    `export const ACTIONS = ${JSON.stringify(enumOf(schema, 'Action'))} as const;`,
    `export const ACTIVE_STATES = ${JSON.stringify(enumOf(schema, 'ActiveState'))} as const;`,
    `export const FINISHED_STATES = ${JSON.stringify(enumOf(schema, 'FinishedState'))} as const;`
  ];
  return `${HEADER}\n${constants.join('\n')}\n\n${types}`;
}

function validatorsModule(schema) {
  const ajv = new Ajv2020({ code: { source: true, esm: true }, strictRequired: false });
  ajv.addKeyword('version');
  ajv.addSchema(schema, 'protocol');
  let code = standalone(ajv, {
    validateKernelMessage: 'protocol#/$defs/KernelMessage',
    validatePanelMessage: 'protocol#/$defs/PanelMessage'
  });
  // ajv's ESM output still require()s its runtime helpers: turn them into imports.
  const imports = [];
  code = code.replace(/require\("(ajv\/dist\/runtime\/[a-z0-9]+)"\)\.default/g, (_, mod) => {
    const name = `ajvRuntime${imports.length}`;
    imports.push(`import ${name} from '${mod}';`);
    return name;
  });
  if (/require\(/.test(code)) {
    throw new Error('ajv standalone code has a require() this script does not handle');
  }
  return `${HEADER}// @ts-nocheck\n/* eslint-disable */\n${imports.join('\n')}\n${code.replace(/^"use strict";/, '')}\n`;
}

const schema = JSON.parse(readFileSync(SCHEMA, 'utf8'));
const outputs = {
  [join(ROOT, 'src', 'protocol.ts')]: await typesModule(schema),
  [join(ROOT, 'src', 'validators.ts')]: validatorsModule(schema)
};
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of Object.entries(outputs)) {
  if (check) {
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
      console.log(`${relative(ROOT, path)} is stale: run npm run gen:protocol`);
      stale += 1;
    }
  } else if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
    writeFileSync(path, text);
  }
}
process.exit(stale ? 1 : 0);
