/** `/whisk.system/samples`: first actions to try. */
import type { CatalogPackage } from './types.js';

export const samples: CatalogPackage = {
  name: 'samples',
  description: 'Sample actions',
  actions: [
    {
      name: 'helloWorld',
      description: 'Greets "payload" (or "name") and says so in its logs',
      parameters: [{ name: 'payload', required: false, description: 'who to greet' }],
      code: `function main(params) {
  const who = params.payload !== undefined ? params.payload : params.name !== undefined ? params.name : 'World';
  console.log('hello ' + who + '!');
  return { payload: 'Hello, ' + who + '!' };
}`,
    },
    {
      name: 'greeting',
      description: 'Greets "name" from "place"',
      parameters: [
        { name: 'name', required: false, description: 'a name (default: stranger)' },
        { name: 'place', required: false, description: 'a place (default: somewhere)' },
      ],
      code: `function main(params) {
  const name = params.name || 'stranger';
  const place = params.place || 'somewhere';
  return { payload: 'Hello, ' + name + ' from ' + place + '!' };
}`,
    },
    {
      name: 'wordCount',
      description: 'Counts the words of the string "payload"',
      parameters: [{ name: 'payload', required: true, description: 'a string' }],
      code: `function main(params) {
  const text = typeof params.payload === 'string' ? params.payload.trim() : '';
  const count = text === '' ? 0 : text.split(/\\s+/).length;
  console.log('The message "' + text + '" has ' + count + ' words.');
  return { count };
}`,
    },
  ],
};
