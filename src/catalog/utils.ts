/**
 * `/whisk.system/utils`: small building blocks for sequences. Each action is plain Node.js source,
 * installed as a `nodejs:20` action.
 */
import type { CatalogPackage } from './types.js';

export const utils: CatalogPackage = {
  name: 'utils',
  description: 'Building blocks that format and assemble data',
  actions: [
    {
      name: 'echo',
      description: 'Returns its input unchanged',
      code: `function main(params) {
  return params;
}`,
    },
    {
      name: 'cat',
      description: 'Concatenates the strings of "lines" into "payload", one per line',
      parameters: [{ name: 'lines', required: true, description: 'an array of strings' }],
      code: `function main(params) {
  const lines = Array.isArray(params.lines) ? params.lines : [];
  return { lines, payload: lines.join('\\n') };
}`,
    },
    {
      name: 'sort',
      description: 'Sorts the strings of "lines"',
      parameters: [{ name: 'lines', required: true, description: 'an array of strings' }],
      code: `function main(params) {
  const lines = Array.isArray(params.lines) ? params.lines.slice() : [];
  lines.sort();
  return { length: lines.length, lines };
}`,
    },
    {
      name: 'split',
      description: 'Splits the string "payload" into "lines" at "separator" (default: line breaks)',
      parameters: [
        { name: 'payload', required: true, description: 'the string to split' },
        { name: 'separator', required: false, description: 'where to split (default: line breaks)' },
      ],
      code: `function main(params) {
  const payload = typeof params.payload === 'string' ? params.payload : '';
  const separator = typeof params.separator === 'string' ? params.separator : /\\r?\\n/;
  return { lines: payload.split(separator), payload };
}`,
    },
    {
      name: 'head',
      description: 'Keeps the first "num" (default 1) strings of "lines"',
      parameters: [
        { name: 'lines', required: true, description: 'an array of strings' },
        { name: 'num', required: false, description: 'how many to keep (default 1)' },
      ],
      code: `function main(params) {
  const lines = Array.isArray(params.lines) ? params.lines : [];
  const num = Number.isInteger(params.num) && params.num >= 0 ? params.num : 1;
  return { lines: lines.slice(0, num) };
}`,
    },
    {
      name: 'wordCount',
      description: 'Counts the words of the string "payload"',
      parameters: [{ name: 'payload', required: true, description: 'a string' }],
      code: `function main(params) {
  const text = typeof params.payload === 'string' ? params.payload.trim() : '';
  return { count: text === '' ? 0 : text.split(/\\s+/).length };
}`,
    },
    {
      name: 'date',
      description: 'Returns the current date and time (ISO 8601, UTC)',
      code: `function main() {
  return { date: new Date().toISOString() };
}`,
    },
  ],
};
