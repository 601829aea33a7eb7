#!/usr/bin/env node
/**
 * Writes the `enum` of `currency` and `country` in schemas/transaction.schema.json from the ISO lists of the
 * iso-codes project (Debian/Ubuntu package `iso-codes`, https://salsa.debian.org/iso-codes-team/iso-codes), as
 * installed in /usr/share/iso-codes/json (4.15.0 for the lists checked in):
 *   currency: iso_4217.json, every alphabetic code except XTS (reserved for testing) and XXX (no currency);
 *   country:  iso_3166-1.json, every alpha-2 code.
 * The lists are checked in, not read at run time: the schema stays the one file every path validates against.
 * Re-run after an iso-codes update (`node schemas/generate-iso-enums.mjs [dir]`) and review the diff.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '/usr/share/iso-codes/json';
const NOT_CURRENCIES = new Set(['XTS', 'XXX']);
const read = (file) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const currencies = read('iso_4217.json')['4217'].map((c) => c.alpha_3).filter((c) => !NOT_CURRENCIES.has(c)).sort();
const countries = read('iso_3166-1.json')['3166-1'].map((c) => c.alpha_2).sort();

const schemaPath = new URL('./transaction.schema.json', import.meta.url);
let text = readFileSync(schemaPath, 'utf8');
for (const [property, codes] of [['currency', currencies], ['country', countries]]) {
  const block = new RegExp(`("${property}": \\{\\n(?:.*\\n)*?\\s*"type": "string", )(?:"pattern": "[^"]*"|"enum": \\[[^\\]]*\\])`);
  if (!block.test(text)) throw new Error(`transaction.schema.json: no "${property}" property with a pattern or enum to replace`);
  text = text.replace(block, `$1"enum": ${JSON.stringify(codes).replaceAll(',', ', ')}`);
}
writeFileSync(schemaPath, text);
console.log(`currency: ${currencies.length} codes, country: ${countries.length} codes; name the iso-codes version (dpkg -s iso-codes) in the $comment of each`);
