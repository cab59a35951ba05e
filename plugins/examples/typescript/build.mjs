// dist/channel.js (from tsc) into a component of the contract's `channel` world.
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';

const { component } = await componentize(await readFile('dist/channel.js', 'utf8'), {
  witPath: '../../../wit/since_v0.3.0',
  worldName: 'channel',
  // The host gives plugins no sockets and no wasi:http: HTTP goes through the contract's `http`.
  disableFeatures: ['http', 'fetch-event'],
});
await writeFile('example_typescript.wasm', component);
console.log(`example_typescript.wasm: ${(component.byteLength / 1048576).toFixed(1)} MiB`);
