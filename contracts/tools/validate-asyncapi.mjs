#!/usr/bin/env node
// Validate an AsyncAPI document with the reference parser: structure, every $ref (including the
// schema files under contracts/events), and the Spectral rules the parser ships.
// Usage: node validate-asyncapi.mjs [path/to/asyncapi.yaml] [--fail-on-warnings]
// Exit codes: 0 valid; 1 an error diagnostic (or a warning with --fail-on-warnings); 2 bad usage
// or the parser itself failed.
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { Parser, fromFile } from '@asyncapi/parser';

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const flags = argv.filter((a) => a.startsWith('--'));
  const files = argv.filter((a) => !a.startsWith('--'));
  const unknown = flags.filter((f) => f !== '--fail-on-warnings');
  if (unknown.length > 0 || files.length > 1) {
    console.error('usage: node validate-asyncapi.mjs [asyncapi.yaml] [--fail-on-warnings]');
    process.exit(2);
  }
  const file = path.resolve(files[0] ?? path.join(here, '..', 'asyncapi.yaml'));
  return { file, failOnWarnings: flags.includes('--fail-on-warnings') };
}

function describe(diagnostic, file) {
  const severity = SEVERITY[diagnostic.severity] ?? String(diagnostic.severity);
  const where = diagnostic.path && diagnostic.path.length > 0 ? diagnostic.path.join('.') : '(root)';
  const line = diagnostic.range ? `:${diagnostic.range.start.line + 1}` : '';
  const source = diagnostic.source && diagnostic.source !== file ? diagnostic.source : file;
  return `${severity} ${diagnostic.code} ${path.relative(process.cwd(), source)}${line} at ${where}: ${diagnostic.message}`;
}

async function main() {
  const { file, failOnWarnings } = parseArgs(process.argv.slice(2));
  const parser = new Parser();
  const { document, diagnostics } = await fromFile(parser, file).parse();
  for (const diagnostic of diagnostics) {
    console.log(describe(diagnostic, file));
  }
  const errors = diagnostics.filter((d) => d.severity === 0).length;
  const warnings = diagnostics.filter((d) => d.severity === 1).length;
  const failed = errors > 0 || document === undefined || (failOnWarnings && warnings > 0);
  console.log(`${failed ? 'INVALID' : 'valid'}: ${file} (${errors} errors, ${warnings} warnings)`);
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(`validator crashed: ${error?.stack ?? error}`);
  process.exit(2);
});
